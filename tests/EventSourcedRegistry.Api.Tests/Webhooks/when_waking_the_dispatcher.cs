using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Webhooks;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Webhooks;

/// <summary>
/// The dispatcher wakes on each append's notification (Marten's, sent at commit) and polls only to make up for lost ones.
/// On a host that polls every ten minutes a delivery within seconds came by a notification; on a host that never listens
/// it came by the poll. Each promotion after the first is made once the one before it was delivered, so no poll or run
/// still under way from an earlier promotion (or from the host's start) can account for it.
/// </summary>
public sealed class when_waking_the_dispatcher(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    async Task IAsyncLifetime.InitializeAsync() => _receiver = await WebhookReceiver.Start();

    async Task IAsyncLifetime.DisposeAsync() => await _receiver.DisposeAsync();

    private const string Transitioned = "model_version_stage_transitioned";

    /// <summary>Well inside the notified host's ten-minute poll, and long enough for a loaded machine.</summary>
    private static readonly TimeSpan WellBeforeThePoll = TimeSpan.FromSeconds(60);

    private static readonly string[] Stages = ["Staging", "Production", "Staging", "Production"];

    /// <summary>Registers a model with a version, subscribes the receiver, then promotes the version through the stages,
    /// each promotion once the one before it has arrived; the deliveries, in order.</summary>
    private async Task<IReadOnlyList<WebhookReceiver.Delivery>> PromoteOneAtATime(IAlbaHost host, Func<int, Task>? between = null)
    {
        await host.RegisterModel("churn");
        var version = await host.RegisterVersion("churn");
        var hook = await host.Subscribe(_receiver.Url, [Transitioned]);
        for (var i = 0; i < Stages.Length; i++)
        {
            if (between is not null) await between(i);
            Assert.Equal(200, (await host.Promote("churn", version, Stages[i])).Status);
            var count = i + 1;
            await _receiver.WaitFor(d => d.Count >= count, $"promotion {count} to {Stages[i]}", WellBeforeThePoll);
        }
        var got = _receiver.All;
        Assert.All(got, d => Assert.True(WebhookReceiver.Verify(hook.Secret, d), $"signature {d.Signature} does not verify"));
        return got;
    }

    private static void InOrderOnceEach(IReadOnlyList<WebhookReceiver.Delivery> got)
    {
        Assert.Equal(Stages, got.Select(d => d.Event["data"]!["event"]!["toStage"]!.GetValue<string>()).ToArray());
        var sequences = got.Select(d => d.Sequence).ToList();
        Assert.Equal(sequences.Order().Distinct().ToList(), sequences);
    }

    /// <summary>The backends of a database that listen as the dispatcher does (Marten's daemon sends its own LISTEN in capitals).</summary>
    private static async Task<int> Listeners(string connectionString, bool terminate = false)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select count({(terminate ? "pg_terminate_backend(pid)" : "*")})::int from pg_stat_activity " +
            $"where datname = current_database() and query = 'listen {WebhookDispatcher.Channel}'", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task promotions_arrive_on_their_notifications_long_before_a_ten_minute_poll()
    {
        var host = await App.NotifiedHooksHost();

        var got = await PromoteOneAtATime(host);

        InOrderOnceEach(got);
        Assert.Equal(1, await Listeners(App.NotifiedHooksConnectionString));
    }

    [Fact]
    public async Task a_notification_lost_with_the_listening_connection_is_made_up_for_when_it_listens_again()
    {
        var host = await App.NotifiedHooksHost();

        // Before the third promotion the dispatcher's listening connection is ended by the server: what is appended until it
        // listens again sends a notification no one hears, and the poll is ten minutes away.
        var got = await PromoteOneAtATime(host, async i =>
        {
            if (i == 2) Assert.Equal(1, await Listeners(App.NotifiedHooksConnectionString, terminate: true));
        });

        InOrderOnceEach(got);
    }

    [Fact]
    public async Task with_listening_off_the_poll_alone_delivers_every_promotion()
    {
        var host = await App.PolledHooksHost();

        var got = await PromoteOneAtATime(host);

        InOrderOnceEach(got);
        Assert.Equal(0, await Listeners(App.PolledHooksConnectionString));
    }
}
