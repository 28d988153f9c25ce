using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Webhooks;

namespace EventSourcedRegistry.Api.Tests.Approvals;

/// <summary>
/// Issue 16, item 4: approvers hear of a request when it is made. The notification is the request's own event delivered
/// by a webhook subscription to <c>transition_requested</c> (docs/integration.md, "Notifying approvers"): durable, signed,
/// retried like every delivery, and sent only when the request was recorded.
/// </summary>
public sealed class when_approvers_are_notified(AppFixture app) : ApiTest(app), IAsyncLifetime
{
    private const string Name = "loan-default";
    private WebhookReceiver _receiver = null!;

    async Task IAsyncLifetime.InitializeAsync() => _receiver = await WebhookReceiver.Start();

    async Task IAsyncLifetime.DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task a_subscription_to_requests_delivers_each_request_with_what_an_approver_needs_and_nothing_else()
    {
        var host = await App.GovernedHost();
        var contributor = await host.CreateKey("contributor");
        var approver = await host.CreateKey("approver");
        await host.RegisterModel(Name);
        await host.RegisterVersion(Name, RegistryCalls.Sha256A);
        await host.RegisterVersion(Name, RegistryCalls.Sha256B);
        var hook = await host.Subscribe(_receiver.Url, ["transition_requested"]);

        // Refused (no such version): no request, no notification.
        var refused = await host.ClientWithKey(contributor.Key).Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/9/stage",
            new { stage = "Production", reason = "wrong version" });
        Assert.Equal(404, refused.Status);
        var requested = await host.ClientWithKey(contributor.Key).Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/1/stage",
            new { stage = "Production", reason = "Beats the baseline.", archiveExisting = true });
        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
        var id = requested.Body!["id"]!.GetValue<string>();

        var got = await _receiver.WaitFor(d => d.Count >= 1, "the request's notification");
        var delivery = Assert.Single(got);
        Assert.True(WebhookReceiver.Verify(hook.Secret, delivery), "the notification's signature does not verify");
        var cloudEvent = delivery.Event;
        Assert.Equal("io.eventsourcedregistry.transition_requested", cloudEvent["type"]!.GetValue<string>());
        Assert.Equal(Name, cloudEvent["subject"]!.GetValue<string>());
        var data = cloudEvent["data"]!;
        Assert.Equal((1, contributor.Actor, "Beats the baseline."),
            (data["version"]!.GetValue<int>(), data["actor"]!.GetValue<string>(), data["reason"]!.GetValue<string>()));
        Assert.Equal((id, "Production"), (data["event"]!["requestId"]!.GetValue<string>(), data["event"]!["target"]!.GetValue<string>()));

        // The approval and the promotion it performs are other types: not sent to this subscription. The next request's
        // delivery shows they were looked at (deliveries follow the workspace's order).
        await host.ClientWithKey(approver.Key).Send(HttpMethod.Post, $"/api/v1/models/{Name}/requests/{id}/approve", new { reason = "Checked." }).Ok();
        var next = await host.ClientWithKey(contributor.Key).Send(HttpMethod.Post, $"/api/v1/models/{Name}/versions/2/stage",
            new { stage = "Production", reason = "Retrained." });
        Assert.True(next.Status == 202, $"{next.Status} {next.Body}");
        var both = await _receiver.WaitFor(d => d.Count >= 2, "the second request's notification");
        Assert.Equal(2, both.Count);
        Assert.Equal(next.Body!["id"]!.GetValue<string>(), both[1].Event["data"]!["event"]!["requestId"]!.GetValue<string>());
        Assert.All(both, d => Assert.Equal("io.eventsourcedregistry.transition_requested", d.Event["type"]!.GetValue<string>()));
    }
}
