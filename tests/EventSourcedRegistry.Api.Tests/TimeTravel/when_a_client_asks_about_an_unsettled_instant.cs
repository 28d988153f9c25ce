using System.Diagnostics;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Cli;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;
using Npgsql;
using Spectre.Console;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Issue 13, item 1, for the .NET client and <c>esr</c>: a "Not settled yet" refusal (503 with Retry-After) is retried
/// after the time the server asks for, a bounded number of times, and then ends in a clear error — never in an answer
/// about an earlier point. An open transaction that began before the instant keeps it unsettled for as long as the test
/// wants.
/// </summary>
public sealed class when_a_client_asks_about_an_unsettled_instant(AppFixture app) : ApiTest(app)
{
    private RegistryClient Client(int maxRetries) => new(new RegistryClientOptions
    {
        HttpClient = Host.Client(),
        MaxRetries = maxRetries,
        RetryDelay = TimeSpan.FromMilliseconds(1),
    });

    /// <summary>A transaction that began now and stays open until disposed: no instant after its start is settled before its end.</summary>
    private sealed class OpenTransaction : IAsyncDisposable
    {
        private NpgsqlConnection? _connection;
        private NpgsqlTransaction? _transaction;

        public static async Task<OpenTransaction> Begin(string connectionString)
        {
            var open = new OpenTransaction { _connection = new NpgsqlConnection(connectionString) };
            await open._connection.OpenAsync();
            open._transaction = await open._connection.BeginTransactionAsync();
            await using var touch = new NpgsqlCommand("select 1", open._connection, open._transaction);
            await touch.ExecuteScalarAsync();
            return open;
        }

        public async ValueTask DisposeAsync()
        {
            if (_transaction is not null) await _transaction.CommitAsync();
            if (_connection is not null) await _connection.DisposeAsync();
            _transaction = null;
            _connection = null;
        }
    }

    private Task<OpenTransaction> Open_transaction() => OpenTransaction.Begin(App.ConnectionString);

    private async Task<DateTimeOffset> Promoted_after_the_transaction_began()
    {
        Assert.Equal(200, (await Host.Promote("churn", 1, "Production")).Status);
        await Task.Delay(100);
        return DateTimeOffset.UtcNow;
    }

    private async Task A_model_with_a_version()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await App.WaitForHighWaterMark();
    }

    [Fact]
    public async Task the_client_retries_after_retry_after_and_answers_once_the_instant_has_settled()
    {
        await A_model_with_a_version();
        var open = await Open_transaction();
        var instant = await Promoted_after_the_transaction_began();
        using var client = Client(maxRetries: 3);
        var clock = Stopwatch.StartNew();

        var read = client.GetModelAsync("churn", PointInTime.AsOf(instant));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await open.DisposeAsync();
        var model = await read;

        Assert.Equal([1], model.VersionsByStage["Production"]);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"answered after {clock.Elapsed}: before the instant had settled");
    }

    [Fact]
    public async Task the_client_gives_up_after_its_retries_with_a_clear_error()
    {
        await A_model_with_a_version();
        await using var open = await Open_transaction();
        var instant = await Promoted_after_the_transaction_began();
        using var client = Client(maxRetries: 1);

        var refused = await Assert.ThrowsAsync<RegistryRequestException>(() => client.GetModelAsync("churn", PointInTime.AsOf(instant)));

        Assert.Equal(503, refused.Status);
        Assert.Equal("Not settled yet", refused.Title);
        Assert.Contains("is not settled yet", refused.Message);
        Assert.Contains("Ask again", refused.Message);
    }

    [Fact]
    public async Task esr_reports_an_unsettled_instant_on_stderr_and_answers_it_once_settled()
    {
        await A_model_with_a_version();
        var open = await Open_transaction();
        var instant = (await Promoted_after_the_transaction_began()).ToString("O");

        var refused = await Esr("state", "churn", "--as-of", instant, "-o", "json");
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        Assert.Contains("503 Not settled yet", refused.Error);
        Assert.Contains("Ask again", refused.Error);
        Assert.Equal("", refused.Out);

        await open.DisposeAsync();
        var answered = await Esr("state", "churn", "--as-of", instant, "-o", "json");
        Assert.True(answered.ExitCode == 0, answered.Error);
        Assert.Contains("\"Production\":[1]", answered.Out);
    }

    private sealed record Run(int ExitCode, string Out, string Error);

    /// <summary>esr in-process against the shared host, its client retrying nothing (the server's wait is the only one).</summary>
    private async Task<Run> Esr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = new CliEnvironment
        {
            Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(new StringWriter()),
            }),
            Out = stdout,
            Error = stderr,
            ClientFor = (_, apiKey, workspace) => new RegistryClient(new RegistryClientOptions { HttpClient = Host.Client(), ApiKey = apiKey, Workspace = workspace, MaxRetries = 0 }),
        };
        var code = await EsrApp.RunAsync(args, env);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }
}
