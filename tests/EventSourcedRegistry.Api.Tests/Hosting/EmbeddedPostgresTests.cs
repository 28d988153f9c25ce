using System.Diagnostics;
using EventSourcedRegistry.Api.Hosting;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Hosting;

public sealed class when_running_the_embedded_postgres : IDisposable
{
    // Each test gets its own directory; as root the cluster inside belongs to the postgres user, which root can still delete.
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "esr-pg-" + Guid.NewGuid().ToString("N")[..12]);

    public when_running_the_embedded_postgres() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private EmbeddedPostgresOptions Options(bool durable = false) =>
        new() { DataDirectory = Path.Combine(_directory, "data"), Durable = durable };

    [Fact]
    public async Task starts_and_answers_queries()
    {
        await using var postgres = await EmbeddedPostgres.StartAsync(Options());

        Assert.Equal(42, await Scalar<int>(postgres, "select 42"));
        Assert.Equal("registry", await Scalar<string>(postgres, "select current_database()"));
    }

    [Fact]
    public async Task a_second_start_reuses_the_data()
    {
        await using (var first = await EmbeddedPostgres.StartAsync(Options()))
        {
            await Scalar<int>(first, "create table kept (value text); insert into kept values ('still here'); select 1");
        }

        await using var second = await EmbeddedPostgres.StartAsync(Options());

        Assert.Equal("still here", await Scalar<string>(second, "select value from kept"));
    }

    [Fact]
    public async Task durable_by_default()
    {
        await using var postgres = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = Path.Combine(_directory, "data") });

        Assert.Equal("on", await Scalar<string>(postgres, "show fsync"));
        Assert.Equal("on", await Scalar<string>(postgres, "show synchronous_commit"));
    }

    [Fact]
    public async Task a_missing_bin_directory_gives_one_clear_message()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "bin")).FullName;

        var error = await Assert.ThrowsAsync<PostgresBinariesNotFoundException>(
            () => EmbeddedPostgres.StartAsync(Options() with { BinDirectory = empty }));

        Assert.Contains("postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Registry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task dispose_stops_the_server()
    {
        var postgres = await EmbeddedPostgres.StartAsync(Options());
        var pid = postgres.ServerProcessId;
        var unpooled = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = false, Timeout = 2 }.ConnectionString;

        await postgres.DisposeAsync();

        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        await using var connection = new NpgsqlConnection(unpooled);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
        await postgres.DisposeAsync(); // idempotent
    }

    // A data source per query keeps pooled connections from outliving the server they point at.
    private static async Task<T> Scalar<T>(EmbeddedPostgres postgres, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
