using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Webhooks;
using Microsoft.Extensions.Configuration;

namespace EventSourcedRegistry.Api.Tests.Webhooks;

/// <summary>
/// Deliveries end to end: a receiver on a real socket, the shared host's dispatcher (retries in milliseconds, a retry
/// window of 3 s: see AppFixture), real PostgreSQL.
/// </summary>
public sealed class when_delivering_webhooks(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await App.ResetAsync();
        _receiver = await WebhookReceiver.Start();
    }

    async Task IAsyncLifetime.DisposeAsync() => await _receiver.DisposeAsync();

    private const string Transitioned = "model_version_stage_transitioned";

    [Fact]
    public async Task a_receiver_gets_every_promotion_as_a_signed_cloud_event()
    {
        await Host.RegisterModel("churn");
        var v1 = await Host.RegisterVersion("churn");
        var hook = await Host.Subscribe(_receiver.Url, [Transitioned]);
        Assert.StartsWith("whsec_", hook.Secret);

        Assert.Equal(200, (await Host.Promote("churn", v1, "Staging", reason: "canary passed")).Status);
        Assert.Equal(200, (await Host.Promote("churn", v1, "Production")).Status);

        var got = await _receiver.WaitFor(d => d.Count >= 2, "both promotions");
        Assert.Equal(2, got.Count);
        Assert.All(got, d => Assert.True(WebhookReceiver.Verify(hook.Secret, d), $"signature {d.Signature} does not verify"));
        Assert.All(got, d => Assert.StartsWith("application/cloudevents+json", d.ContentType));
        Assert.False(WebhookReceiver.Verify(hook.Secret + "x", got[0]), "a signature verified with the wrong secret");

        var first = got[0].Event;
        Assert.Equal("1.0", first["specversion"]!.GetValue<string>());
        Assert.Equal("io.eventsourcedregistry." + Transitioned, first["type"]!.GetValue<string>());
        Assert.Equal("churn", first["subject"]!.GetValue<string>());
        Assert.Equal("default", first["workspace"]!.GetValue<string>());
        Assert.Equal($"{Guid.Parse(hook.Id):N}-{got[0].Sequence}", first["id"]!.GetValue<string>());
        Assert.Equal(first["id"]!.GetValue<string>(), got[0].DeliveryId);
        Assert.Equal(v1, first["data"]!["version"]!.GetValue<int>());
        Assert.Equal("Staging", first["data"]!["event"]!["toStage"]!.GetValue<string>());
        Assert.Equal("canary passed", first["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(AppFixture.AdminActor, first["data"]!["actor"]!.GetValue<string>());
        Assert.True(got[1].Sequence > got[0].Sequence);

        var after = await Host.WaitForSubscription(hook.Id, s => s["cursor"]!.GetValue<long>() >= got[1].Sequence, "moved its cursor");
        Assert.Equal(0, after["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_receiver_down_for_a_while_gets_everything_afterwards_in_order_with_the_same_delivery_ids()
    {
        foreach (var model in new[] { "churn", "fraud" })
        {
            await Host.RegisterModel(model);
            await Host.RegisterVersion(model);
            await Host.RegisterVersion(model);
        }
        // Down (503) for the first three attempts.
        _receiver.Answer = n => n <= 3 ? 503 : 200;
        var hook = await Host.Subscribe(_receiver.Url, [Transitioned]);
        foreach (var (model, version, stage) in new[] { ("churn", 1, "Staging"), ("fraud", 1, "Staging"), ("churn", 2, "Staging"), ("fraud", 1, "Production"),
                     ("churn", 1, "Production") })
            Assert.Equal(200, (await Host.Promote(model, version, stage)).Status);

        var got = await _receiver.WaitFor(d => d.Count(x => x.Answered == 200) >= 5, "all five promotions after the outage");
        var accepted = got.Where(d => d.Answered == 200).ToList();
        Assert.Equal(5, accepted.Count);
        var sequences = accepted.Select(d => d.Sequence).ToList();
        Assert.Equal(sequences.Order().ToList(), sequences);
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);
        // The failed attempts were of the first event, retried under the same delivery id until it was taken.
        var failed = got.Where(d => d.Answered == 503).ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, d => Assert.Equal(accepted[0].DeliveryId, d.DeliveryId));
        Assert.Equal(["churn", "fraud", "churn", "fraud", "churn"], accepted.Select(d => d.Event["subject"]!.GetValue<string>()).ToArray());
        Assert.Equal(0, (await Host.Get($"/api/v1/subscriptions/{hook.Id}")).Body!["deadLetters"]!.GetValue<int>());
    }

    [Fact]
    public async Task promotions_made_while_deliveries_go_on_arrive_each_model_in_order_and_none_missing()
    {
        var models = new[] { "churn", "fraud", "ranker", "search" };
        foreach (var model in models)
        {
            await Host.RegisterModel(model);
            await Host.RegisterVersion(model);
        }
        var hook = await Host.Subscribe(_receiver.Url, [Transitioned]);

        // Four callers at once, each moving its model's version back and forth, while the dispatcher delivers as they commit.
        const int each = 10;
        await Task.WhenAll(models.Select(async model =>
        {
            for (var i = 0; i < each; i++)
                Assert.Equal(200, (await Host.Promote(model, 1, i % 2 == 0 ? "Staging" : "Production")).Status);
        }));

        var got = await _receiver.WaitFor(d => d.Count >= models.Length * each, "every promotion");
        Assert.Equal(models.Length * each, got.Count);
        var sequences = got.Select(d => d.Sequence).ToList();
        Assert.Equal(sequences.Order().ToList(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        foreach (var model in models)
        {
            var stages = got.Where(d => d.Event["subject"]!.GetValue<string>() == model)
                .Select(d => d.Event["data"]!["event"]!["toStage"]!.GetValue<string>()).ToList();
            Assert.Equal(Enumerable.Range(0, each).Select(i => i % 2 == 0 ? "Staging" : "Production"), stages);
        }
        await Host.WaitForSubscription(hook.Id, s => s["cursor"]!.GetValue<long>() >= sequences[^1], "moved its cursor past the last delivery");
    }

    [Fact]
    public async Task a_backlog_of_more_than_a_batch_arrives_in_order_once_each_and_the_cursor_moves_past_it()
    {
        foreach (var model in new[] { "churn", "fraud" })
        {
            await Host.RegisterModel(model);
            await Host.RegisterVersion(model);
        }
        // More events of interest than one read of the dispatcher takes, all committed before the subscription that starts
        // before them: its first run is a backlog, whose cursor is stored every few deliveries rather than after each.
        var count = WebhookDispatcher.BatchSize + WebhookDispatcher.CursorEvery + 3;
        for (var i = 0; i < count; i++)
            Assert.Equal(200, (await Host.Promote(i % 2 == 0 ? "churn" : "fraud", 1, i / 2 % 2 == 0 ? "Staging" : "Production")).Status);
        var made = await Host.Post("/api/v1/subscriptions", new { targetUrl = _receiver.Url, eventTypes = new[] { Transitioned }, startAfterSequence = 0 });
        Assert.Equal(201, made.Status);
        var id = made.Body!["subscription"]!["id"]!.GetValue<string>();

        var got = await _receiver.WaitFor(d => d.Count >= count, "the whole backlog");
        Assert.Equal(count, got.Count);
        var sequences = got.Select(d => d.Sequence).ToList();
        Assert.Equal(sequences.Order().ToList(), sequences);
        Assert.Equal(count, sequences.Distinct().Count());
        // At or past the last delivery: the cursor also passes events of no interest (the subscription's own creation).
        var after = await Host.WaitForSubscription(id, s => s["cursor"]!.GetValue<long>() >= sequences[^1], "moved its cursor past the backlog");
        Assert.Equal(0, after["attempts"]!.GetValue<int>());
        Assert.Equal(count, _receiver.All.Count);
    }

    [Fact]
    public void by_default_a_receiver_back_from_an_outage_of_any_length_is_tried_again_within_30_seconds()
    {
        var defaults = WebhookOptions.From(new ConfigurationBuilder().Build());
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.MaxBackoff);
        // Ten minutes down is about ten failed attempts; a day, a few thousand: the wait never grows past the cap.
        foreach (var failed in new[] { 10, 3_000 })
            Assert.Equal(defaults.MaxBackoff, WebhookBackoff.Delay(failed, defaults.InitialBackoff, defaults.MaxBackoff, 1.0));
    }

    [Fact]
    public async Task a_refused_command_sends_nothing()
    {
        await Host.RegisterModel("churn");
        var v1 = await Host.RegisterVersion("churn");
        await Host.Subscribe(_receiver.Url);

        Assert.Equal(404, (await Host.Promote("churn", 99, "Staging")).Status);
        var unknownStage = await Host.Promote("churn", v1, "Nowhere");
        Assert.InRange(unknownStage.Status, 400, 422);
        Assert.InRange((await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 99 })).Status, 400, 422);
        // A command that succeeds afterwards: its delivery proves every earlier sequence was looked at (global order).
        Assert.Equal(200, (await Host.Promote("churn", v1, "Staging")).Status);

        var got = await _receiver.WaitFor(d => d.Count >= 1, "the promotion that succeeded");
        var only = Assert.Single(got);
        Assert.Equal("io.eventsourcedregistry." + Transitioned, only.Event["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_receiver_answering_410_pauses_its_subscription()
    {
        await Host.RegisterModel("churn");
        var v1 = await Host.RegisterVersion("churn");
        _receiver.Answer = _ => 410;
        var hook = await Host.Subscribe(_receiver.Url, [Transitioned]);
        Assert.Equal(200, (await Host.Promote("churn", v1, "Staging")).Status);

        var paused = await Host.WaitForSubscription(hook.Id, s => s["status"]!.GetValue<string>() == "paused", "paused");
        Assert.Contains("410", paused["pausedReason"]!.GetValue<string>());
        Assert.Contains("410", paused["lastError"]!.GetValue<string>());
        Assert.Single(_receiver.All);

        // Resumed, the same event is delivered (the cursor did not move past it).
        _receiver.Answer = _ => 200;
        Assert.Equal(200, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/resume", null)).Status);
        var got = await _receiver.WaitFor(d => d.Any(x => x.Answered == 200), "the event after resuming");
        Assert.Equal(got[0].DeliveryId, got.Single(d => d.Answered == 200).DeliveryId);
    }

    [Fact]
    public async Task a_delivery_failing_past_the_retry_window_is_dead_lettered_and_a_replay_delivers_it()
    {
        await Host.RegisterModel("churn");
        var v1 = await Host.RegisterVersion("churn");
        _receiver.Answer = _ => 503;
        var hook = await Host.Subscribe(_receiver.Url, [Transitioned]);
        Assert.Equal(200, (await Host.Promote("churn", v1, "Staging")).Status);

        // While it is retried, the subscription shows it.
        var failing = await Host.WaitForSubscription(hook.Id, s => s["attempts"]!.GetValue<int>() > 0, "showed a failed attempt");
        Assert.Contains("503", failing["lastError"]!.GetValue<string>());

        var dead = await Host.WaitForSubscription(hook.Id, s => s["deadLetters"]!.GetValue<int>() == 1, "dead-lettered its delivery");
        var letters = (await Host.Get($"/api/v1/subscriptions/{hook.Id}/dead-letters")).Body!["items"]!.AsArray();
        var letter = Assert.Single(letters)!;
        var sequence = letter["sequence"]!.GetValue<long>();
        Assert.Equal(sequence, dead["cursor"]!.GetValue<long>());
        Assert.Contains("503", letter["lastError"]!.GetValue<string>());

        _receiver.Answer = _ => 200;
        var replay = await Host.Post($"/api/v1/subscriptions/{hook.Id}/dead-letters/{sequence}/replay", null);
        Assert.Equal(202, replay.Status);
        var got = await _receiver.WaitFor(d => d.Any(x => x.Answered == 200), "the replayed delivery");
        var delivered = got.Single(d => d.Answered == 200);
        Assert.Equal($"{Guid.Parse(hook.Id):N}-{sequence}", delivered.DeliveryId);
        Assert.True(WebhookReceiver.Verify(hook.Secret, delivered));
        await Host.WaitForSubscription(hook.Id, s => s["deadLetters"]!.GetValue<int>() == 0, "emptied its dead letters");
    }
}
