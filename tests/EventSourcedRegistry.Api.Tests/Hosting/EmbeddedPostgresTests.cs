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

    // Issue 13, item 9: a SIGKILLed postmaster stayed dead under a running API. EnsureRunningAsync is what the app's
    // supervisor calls; these prove the server half (the API half is the crash suite's postmaster scenario).
    [Fact]
    public async Task a_killed_server_comes_back_on_the_same_port_with_every_committed_row()
    {
        await using var postgres = await EmbeddedPostgres.StartAsync(Options(durable: true));
        await Scalar<int>(postgres, "create table kept (value int); insert into kept select generate_series(1, 1000); select 1");
        var killed = postgres.ServerProcessId;
        Assert.True(postgres.IsRunning);
        Assert.Null(await postgres.EnsureRunningAsync());

        SigKill(killed);
        await WaitUntil(() => !postgres.IsRunning, "the process check sees the postmaster gone");
        var recovery = await postgres.EnsureRunningAsync();

        Assert.NotNull(recovery);
        Assert.Equal(killed, recovery.LostPid);
        Assert.False(recovery.Adopted);
        Assert.NotEqual(killed, postgres.ServerProcessId);
        Assert.True(postgres.IsRunning && postgres.OwnsServer);
        // Same port, so the connection string the app holds still works; crash recovery kept the committed rows.
        Assert.Equal(1000L, await Scalar<long>(postgres, "select count(*) from kept"));
        Assert.Equal("on", await Scalar<string>(postgres, "show fsync"));
        Assert.Equal("on", await Scalar<string>(postgres, "show synchronous_commit"));
    }

    [Fact]
    public async Task two_instances_on_one_directory_bring_back_one_server_and_the_restarter_stops_it()
    {
        await using var first = await EmbeddedPostgres.StartAsync(Options());
        await using var second = await EmbeddedPostgres.StartAsync(Options());
        Assert.False(second.OwnsServer);
        Assert.Equal(first.Port, second.Port);

        SigKill(first.ServerProcessId);
        await WaitUntil(() => !first.IsRunning && !second.IsRunning, "both see the postmaster gone");
        var recoveries = await Task.WhenAll(first.EnsureRunningAsync(), second.EnsureRunningAsync());

        // Whoever lost the race adopted the winner's server instead of fighting over the data directory.
        Assert.All(recoveries, Assert.NotNull);
        Assert.Single(recoveries, r => !r!.Adopted);
        Assert.Equal(first.ServerProcessId, second.ServerProcessId);
        Assert.True(first.OwnsServer ^ second.OwnsServer);
        Assert.Equal(42, await Scalar<int>(second, "select 42"));

        var pid = first.ServerProcessId;
        await (first.OwnsServer ? first : second).DisposeAsync();
        await WaitUntil(() => !IsAlive(pid), "the instance that restarted the server stops it");
    }

    [Fact]
    public async Task two_instances_starting_at_once_on_one_directory_share_one_server_and_its_owner_stops_it()
    {
        await (await EmbeddedPostgres.StartAsync(Options())).DisposeAsync();

        // Several rounds, because which of PostgreSQL's refusals the loser meets depends on timing: the lock file
        // "already exists" once the winner wrote it, or "is empty" in the instant between its creation and its writing.
        for (var round = 1; round <= 3; round++)
        {
            var started = await Task.WhenAll(EmbeddedPostgres.StartAsync(Options()), EmbeddedPostgres.StartAsync(Options()));
            var (one, other) = (started[0], started[1]);

            Assert.True(one.OwnsServer ^ other.OwnsServer, $"round {round}: exactly one instance owns the server");
            Assert.Equal(one.Port, other.Port);
            Assert.Equal(one.ServerProcessId, other.ServerProcessId);
            Assert.Equal(round, await Scalar<int>(one, $"select {round}"));
            Assert.Equal(round, await Scalar<int>(other, $"select {round}"));

            var pid = one.ServerProcessId;
            await (one.OwnsServer ? other : one).DisposeAsync();
            Assert.True(IsAlive(pid), $"round {round}: the instance that adopted the server leaves it running");
            await (one.OwnsServer ? one : other).DisposeAsync();
            await WaitUntil(() => !IsAlive(pid), "the instance that started the server stops it");
        }
    }

    // CI failed once on the test above: both instances found the killed postmaster's lock file stale and launched a
    // postmaster each; PostgreSQL lets two postmasters that read the same stale lock file both unlink it, so the loser
    // deleted the lock file the winner had just written, and the winner shut itself down a minute later ("data
    // directory lock file is invalid"). Instances now take turns from reading the lock file to a started server.
    [Fact]
    public async Task instances_starting_at_once_over_a_stale_lock_file_leave_the_server_its_own_lock_file()
    {
        await (await EmbeddedPostgres.StartAsync(Options())).DisposeAsync();
        var lockFile = Path.Combine(_directory, "data", "postgres", "postmaster.pid");

        for (var round = 1; round <= 4; round++)
        {
            // What a killed postmaster leaves behind: a lock file naming a PID that is gone.
            var port = 20000 + round;
            await File.WriteAllTextAsync(lockFile, $"{DeadPid()}\n{Path.GetDirectoryName(lockFile)}\n1700000000\n{port}\n\n127.0.0.1\n  5432001    32768\nready   \n");
            var started = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => EmbeddedPostgres.StartAsync(Options())));
            try
            {
                var owner = Assert.Single(started, s => s.OwnsServer);
                Assert.All(started, s => Assert.Equal(owner.ServerProcessId, s.ServerProcessId));
                Assert.Equal(owner.ServerProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadLines(lockFile).First());
                // PostgreSQL rechecks its lock file every minute; by then a deleted one would have stopped the server.
                Assert.True(started.All(s => s.IsRunning), $"round {round}: the server runs and its lock file names it");
                Assert.Equal(round, await Scalar<int>(owner, $"select {round}"));
            }
            finally
            {
                foreach (var server in started.OrderBy(s => s.OwnsServer))
                    await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task a_start_waits_while_another_instance_holds_the_start_lock()
    {
        await (await EmbeddedPostgres.StartAsync(Options())).DisposeAsync();
        var startLock = Path.Combine(_directory, "data", EmbeddedPostgres.StartLockFileName);

        Task<EmbeddedPostgres> starting;
        await using (new FileStream(startLock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            starting = EmbeddedPostgres.StartAsync(Options());
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(starting.IsCompleted, "the start waits for the instance that holds the start lock");
            Assert.False(File.Exists(Path.Combine(_directory, "data", "postgres", "postmaster.pid")), "no postmaster was launched meanwhile");
        }

        await using var postgres = await starting;
        Assert.True(postgres.OwnsServer);
        Assert.Equal(9, await Scalar<int>(postgres, "select 9"));
    }

    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public async Task an_empty_lock_file_is_taken_for_another_starter_and_waited_for_not_for_a_failed_start()
    {
        await (await EmbeddedPostgres.StartAsync(Options())).DisposeAsync();
        // What another postmaster's lock file looks like in the instant between its creation and its writing.
        var lockFile = Path.Combine(_directory, "data", "postgres", "postmaster.pid");
        await File.WriteAllBytesAsync(lockFile, []);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(lockFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var starting = EmbeddedPostgres.StartAsync(Options());
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(starting.IsCompleted, "the start waits while the lock file is empty");
        File.Delete(lockFile);

        await using var postgres = await starting;
        Assert.True(postgres.OwnsServer);
        Assert.Equal(7, await Scalar<int>(postgres, "select 7"));
    }

    [Fact]
    public async Task a_restart_waits_for_the_killed_servers_backends_to_let_go_of_its_shared_memory()
    {
        await using var postgres = await EmbeddedPostgres.StartAsync(Options());
        var unpooled = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(unpooled);
        await connection.OpenAsync();
        await using var pidQuery = new NpgsqlCommand("select pg_backend_pid()", connection);
        var backend = (int)(await pidQuery.ExecuteScalarAsync())!;

        // A stopped backend stands for one busy in a long step: it cannot notice that its postmaster died.
        Signal(backend, SigStop);
        try
        {
            SigKill(postgres.ServerProcessId);
            await WaitUntil(() => !postgres.IsRunning, "the process check sees the postmaster gone");
            var recovering = postgres.EnsureRunningAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(recovering.IsCompleted, "PostgreSQL cannot start while the old backend holds the shared memory");

            Signal(backend, SigCont);
            var recovery = await recovering.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(recovery!.Adopted);
            Assert.Equal(7, await Scalar<int>(postgres, "select 7"));
        }
        finally
        {
            Signal(backend, SigCont);
        }
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);

    private static void SigKill(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new Xunit.Sdk.XunitException($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    // A data source per query keeps pooled connections from outliving the server they point at.
    private static async Task<T> Scalar<T>(EmbeddedPostgres postgres, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
