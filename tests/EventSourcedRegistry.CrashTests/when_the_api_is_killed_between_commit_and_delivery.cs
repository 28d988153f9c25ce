using System.Diagnostics;
using EventSourcedRegistry.CrashTests.Support;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests;

/// <summary>
/// Issue 16: the API SIGKILLed between commit and delivery delivers after restart (at least once, no loss). One API node
/// (embedded PostgreSQL, durable) and a subscription to every model event; the receiver takes the first delivery and
/// does not answer it, so it is in flight while registrations and promotions are acknowledged behind it. The API is
/// SIGKILLed, the receiver answers from then on, and the API is started again on the same data directory: every
/// acknowledged event arrives, signed, in order per model, and the delivery in flight at the kill is sent again with the
/// delivery id of its first attempt.
/// </summary>
public sealed class when_the_api_is_killed_between_commit_and_delivery(ITestOutputHelper output)
    : CrashScenario(output, "API SIGKILLed with webhook deliveries committed but not delivered")
{
    private static readonly string[] ModelNames = ["hooks-a", "hooks-b"];
    private const int Rounds = 4;

    [Fact]
    public async Task every_acknowledged_event_is_delivered_after_the_restart_in_order_with_its_delivery_id()
    {
        var total = Stopwatch.StartNew();
        var data = NewDirectory("hooks");
        await using var receiver = await WebhookReceiver.Start();
        var environment = new Dictionary<string, string?>
        {
            ["Registry__DataDirectory"] = data,
            ["Registry__Webhooks__AllowedTargets"] = WebhookReceiver.Address,
            // The held delivery must still be in flight at the kill: the call's own timeout far past the scenario's length.
            ["Registry__Webhooks__Timeout"] = "00:10:00",
            // When the dispatcher took its lock, for a failure's report.
            ["Logging__LogLevel__EventSourcedRegistry.Api.Webhooks"] = "Information",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        };
        var node = await StartNode("api", environment);
        var outcome = "failed";
        try
        {
            receiver.Hold();
            var hook = await receiver.Subscribe(Http, node.BaseAddress);
            await Ledger.RegisterModels(Http, node.BaseAddress, ModelNames, RunId);
            // What the registry acknowledged, as (event type, model, version, stage) the deliveries must show.
            var acknowledged = ModelNames.Select(m => ("model_registered", m, (int?)null, (string?)null)).ToList();
            for (var round = 1; round <= Rounds; round++)
            {
                foreach (var model in ModelNames)
                {
                    var registered = await VersionWriters.Send(Http, node.BaseAddress, new Write($"{RunId}-{model}-{round}", model, Writer: 0, Seq: round));
                    Assert.True(registered.Ack is not null, $"registering a version of {model}: {(int?)registered.Status} {registered.Body}");
                    acknowledged.Add(("model_version_registered", model, registered.Ack.Version, null));
                    await Promote(node.BaseAddress, model, registered.Ack.Version, "Staging", $"{RunId}-{model}-{round}-staging");
                    acknowledged.Add(("model_version_stage_transitioned", model, registered.Ack.Version, "Staging"));
                }
            }
            // The first delivery is in flight (held) and, the head of its subscription's line, keeps every later one waiting.
            Assert.True(await receiver.WaitFor(d => d.Count >= 1, TimeSpan.FromSeconds(60)), "the dispatcher sent nothing within 60 s");
            var held = receiver.All;
            Assert.True(held is [{ Held: true }], $"before the kill, one delivery in flight and nothing else: {string.Join(", ", held.Select(d => d.DeliveryId))}");

            await node.Kill();
            var down = Stopwatch.StartNew();
            var killedAt = DateTimeOffset.UtcNow;
            receiver.Answer();
            node = await StartNode("api", environment);
            var restarted = down.Elapsed;

            await using var store = Ledger.EmbeddedStore(data);
            var models = await WebhookReceiver.ModelIds(Http, node.BaseAddress, ModelNames);
            var matching = await WebhookReceiver.Matching(store, models, hook.Cursor);
            var arrived = await receiver.WaitFor(d => matching.All(e => d.Any(x => !x.Held && x.Sequence == e.Sequence)), TimeSpan.FromSeconds(90));
            var deliveries = receiver.All;
            var verdict = WebhookReceiver.Check(deliveries, matching, hook.Id, hook.Secret);
            var answered = deliveries.Where(d => !d.Held).ToList();
            var shown = answered.Select(d => (d.EventType, d.Event["data"]!["model"]!.GetValue<string>(), d.Event["data"]!["version"]?.GetValue<int>(),
                d.Event["data"]!["event"]?["toStage"]?.GetValue<string>())).ToHashSet();

            Figures.Add("acknowledged writes (model registrations, version registrations, promotions)", acknowledged.Count);
            Figures.Add(verdict);
            Figures.Add("in flight at the kill (held, unanswered)", held.Count);
            Figures.Add("SIGKILL -> ready again on the same data directory", restarted);
            // By the receiver's clock: when the last event to arrive did (the test's own reads after the restart are not counted).
            Figures.Add("SIGKILL -> every matched event delivered", arrived ? answered.Max(d => d.ReceivedAt) - killedAt : "not within 90 s");
            Figures.Add("the subscription at the end", await WebhookReceiver.State(Http, node.BaseAddress, hook.Id));
            Figures.Add("duration", total.Elapsed);

            Assert.Empty(acknowledged.Where(a => !shown.Contains(a)).Select(a => $"acknowledged but not delivered: {a}"));
            Assert.Empty(verdict.Problems);
            Assert.Equal(acknowledged.Count, verdict.Expected);
            Assert.Equal(0, verdict.Duplicates);
            // The delivery in flight at the kill is the first one sent after the restart, under the id of its first attempt.
            Assert.Equal(held[0].DeliveryId, answered[0].DeliveryId);
            Assert.Equal(held[0].Sequence, answered[0].Sequence);
            outcome = "passed";
        }
        finally
        {
            Figures.Print(outcome);
            if (outcome != "passed") WriteNodeOutputs();
        }
    }

    // A promotion with an Idempotency-Key, retried with it while the answer is a 5xx or none; it must be acknowledged.
    private async Task Promote(Uri node, string model, int version, string stage, string key)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string body;
            int? status = null;
            try
            {
                using var response = await Http.SendAsync(Ledger.Request(HttpMethod.Post, node, $"api/v1/models/{model}/versions/{version}/stage",
                    new { stage }, key));
                status = (int)response.StatusCode;
                body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { body = e.Message; }
            Assert.True(status is null or >= 500 && clock.Elapsed < TimeSpan.FromSeconds(60), $"promoting {model} v{version} to {stage}: {status} {body}");
            await Task.Delay(200);
        }
    }
}
