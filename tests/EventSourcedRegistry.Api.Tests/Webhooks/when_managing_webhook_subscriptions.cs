using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Webhooks;
using JasperFx.Events;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Webhooks;

/// <summary>
/// Subscriptions through the API: the secret shown once, every change audited in the access stream, the SSRF policy at
/// creation, who may see and change which subscription, and hostile input refused with nothing appended.
/// </summary>
public sealed class when_managing_webhook_subscriptions(AppFixture app) : ApiTest(app)
{
    private const string Target = $"http://{WebhookReceiver.Address}:9/hooks";

    private async Task<IReadOnlyList<IEvent>> AccessEvents()
    {
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        return await session.Events.FetchStreamAsync(AccessStream.Id);
    }

    [Fact]
    public async Task the_secret_is_shown_once_and_every_change_is_recorded_with_its_actor()
    {
        var hook = await Host.Subscribe(Target, ["model_alias_assigned"]);
        Assert.True(hook.Secret.Length >= 43, hook.Secret);
        var read = await Host.Get($"/api/v1/subscriptions/{hook.Id}");
        Assert.Equal(200, read.Status);
        Assert.DoesNotContain(hook.Secret, read.Body!.ToJsonString());
        Assert.DoesNotContain(hook.Secret, (await Host.Get("/api/v1/subscriptions")).Body!.ToJsonString());
        Assert.Equal("active", read.Body!["status"]!.GetValue<string>());

        var paused = await Host.Post($"/api/v1/subscriptions/{hook.Id}/pause?reason=maintenance", null);
        Assert.Equal("paused", paused.Body!["status"]!.GetValue<string>());
        Assert.Equal(200, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/pause", null)).Status);
        Assert.Equal("active", (await Host.Post($"/api/v1/subscriptions/{hook.Id}/resume", null)).Body!["status"]!.GetValue<string>());
        var rotated = await Host.Post($"/api/v1/subscriptions/{hook.Id}/rotate-secret", null);
        Assert.Equal(200, rotated.Status);
        Assert.NotEqual(hook.Secret, rotated.Body!["secret"]!.GetValue<string>());
        Assert.Equal(204, (await Host.Send(HttpMethod.Delete, $"/api/v1/subscriptions/{hook.Id}")).Status);
        Assert.Equal(404, (await Host.Get($"/api/v1/subscriptions/{hook.Id}")).Status);

        var events = await AccessEvents();
        // The second pause changed nothing and recorded nothing.
        Assert.Equal([typeof(WebhookSubscriptionCreated), typeof(WebhookSubscriptionPaused), typeof(WebhookSubscriptionResumed),
            typeof(WebhookSecretRotated), typeof(WebhookSubscriptionDeleted)], events.Select(e => e.EventType).ToArray());
        Assert.All(events, e => Assert.Equal(AppFixture.AdminActor, e.UserName));
        Assert.Equal("maintenance", ((WebhookSubscriptionPaused)events[1].Data).Reason);
        Assert.All(events, e => Assert.DoesNotContain(hook.Secret, System.Text.Json.JsonSerializer.Serialize(e.Data, e.EventType)));
        Assert.DoesNotContain(rotated.Body["secret"]!.GetValue<string>(), string.Join("", events.Select(e => System.Text.Json.JsonSerializer.Serialize(e.Data, e.EventType))));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("http://localhost:8080/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.5/hooks")]
    [InlineData("http://192.168.1.10/hooks")]
    [InlineData("http://[::1]/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]/hooks")]
    [InlineData("http://[fd00::1]/hooks")]
    [InlineData("http://100.64.0.1/hooks")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://example.com/")]
    public async Task a_target_the_registry_does_not_call_is_refused_with_422_and_nothing_appended(string target)
    {
        var before = await Store.TotalEvents();
        var refused = await Host.Post("/api/v1/subscriptions", new { targetUrl = target });
        Assert.True(refused.Status == 422, $"{target}: {refused.Status} {refused.Body}");
        Assert.False(string.IsNullOrWhiteSpace(refused.Body!["detail"]!.GetValue<string>()));
        Assert.Equal(before, await Store.TotalEvents());
        Assert.Empty((await Host.Get("/api/v1/subscriptions")).Body!["items"]!.AsArray());
    }

    public static TheoryData<string, object> HostileBodies => new()
    {
        { "a huge URL", new { targetUrl = "https://example.com/" + new string('a', 10_000) } },
        { "no URL", new { targetUrl = "not a url" } },
        { "a bare path", new { targetUrl = "/hooks" } },
        { "no target", new { eventTypes = new[] { "model_alias_assigned" } } },
        { "an unknown event type", new { targetUrl = "https://example.com/h", eventTypes = new[] { "api_key_created" } } },
        { "an event type of null", new { targetUrl = "https://example.com/h", eventTypes = new string?[] { null } } },
        { "too many event types", new { targetUrl = "https://example.com/h", eventTypes = Enumerable.Repeat("model_alias_assigned", 51).ToArray() } },
        { "a bad model name", new { targetUrl = "https://example.com/h", model = "bad\u0000name" } },
        { "a negative start", new { targetUrl = "https://example.com/h", startAfterSequence = -1 } },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task hostile_input_is_answered_400_and_appends_nothing(string what, object body)
    {
        var before = await Store.TotalEvents();
        var refused = await Host.Post("/api/v1/subscriptions", body);
        Assert.True(refused.Status == 400, $"{what}: {refused.Status} {refused.Body}");
        Assert.Equal(before, await Store.TotalEvents());
    }

    [Fact]
    public async Task bad_ids_and_sequences_are_answered_400_and_a_start_in_the_future_422()
    {
        var hook = await Host.Subscribe(Target);
        var before = await Store.TotalEvents();
        Assert.Equal(400, (await Host.Get("/api/v1/subscriptions/not-a-uuid")).Status);
        Assert.Equal(400, (await Host.Get($"/api/v1/subscriptions/{new string('1', 500)}")).Status);
        Assert.Equal(400, (await Host.Post("/api/v1/subscriptions/not-a-uuid/pause", null)).Status);
        Assert.Equal(404, (await Host.Get($"/api/v1/subscriptions/{Guid.NewGuid()}")).Status);
        Assert.Equal(400, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/dead-letters/abc/replay", null)).Status);
        Assert.Equal(400, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/dead-letters/99999999999999999999/replay", null)).Status);
        Assert.Equal(404, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/dead-letters/7/replay", null)).Status);
        Assert.Equal(400, (await Host.Post($"/api/v1/subscriptions/{hook.Id}/pause?reason={new string('r', 3000)}", null)).Status);
        Assert.Equal(422, (await Host.Post("/api/v1/subscriptions", new { targetUrl = Target, startAfterSequence = 1_000_000 })).Status);
        Assert.Equal(before, await Store.TotalEvents());
    }

    [Fact]
    public async Task a_models_contributor_manages_only_that_models_subscriptions_and_sees_no_other()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        var everything = await Host.Subscribe(Target);
        var fraudOnly = await Host.Subscribe(Target, model: "fraud");
        using var contributor = await Host.ClientWithRoles("contributor:churn");

        var own = await Host.Subscribe(Target, ["model_version_stage_transitioned"], "churn", contributor);
        Assert.Equal("churn", own.Subscription["model"]!.GetValue<string>());
        var listed = (await contributor.Send(HttpMethod.Get, "/api/v1/subscriptions")).Body!;
        Assert.Equal([own.Id], listed["items"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ToArray());
        Assert.DoesNotContain("fraud", listed.ToJsonString());

        // Another model's subscription, or an unfiltered one: exactly the answer of an id that does not exist.
        var missing = await contributor.Send(HttpMethod.Get, $"/api/v1/subscriptions/{Guid.NewGuid()}");
        foreach (var hidden in new[] { everything.Id, fraudOnly.Id })
        {
            var read = await contributor.Send(HttpMethod.Get, $"/api/v1/subscriptions/{hidden}");
            Assert.Equal(404, read.Status);
            Assert.Equal(missing.Body!["title"]!.GetValue<string>(), read.Body!["title"]!.GetValue<string>());
            Assert.DoesNotContain("fraud", read.Body.ToJsonString());
            Assert.Equal(404, (await contributor.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hidden}/pause")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hidden}/rotate-secret")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Delete, $"/api/v1/subscriptions/{hidden}")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Get, $"/api/v1/subscriptions/{hidden}/dead-letters")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hidden}/resume")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hidden}/dead-letters/replay")).Status);
            Assert.Equal(404, (await contributor.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hidden}/dead-letters/1/replay")).Status);
        }
        Assert.Equal("active", (await Host.Get($"/api/v1/subscriptions/{fraudOnly.Id}")).Body!["status"]!.GetValue<string>());

        // A model it may not read is answered as one that does not exist; every model's events are an admin's.
        var before = await Store.TotalEvents();
        var other = await contributor.Send(HttpMethod.Post, "/api/v1/subscriptions", new { targetUrl = Target, model = "fraud" });
        var none = await contributor.Send(HttpMethod.Post, "/api/v1/subscriptions", new { targetUrl = Target, model = "no-such-model" });
        Assert.Equal(404, other.Status);
        Assert.Equal(none.Status, other.Status);
        Assert.Equal(403, (await contributor.Send(HttpMethod.Post, "/api/v1/subscriptions", new { targetUrl = Target })).Status);
        Assert.Equal(before, await Store.TotalEvents());
    }

    [Fact]
    public async Task a_reader_or_a_models_reader_may_not_manage_subscriptions()
    {
        await Host.RegisterModel("churn");
        var hook = await Host.Subscribe(Target, model: "churn");
        foreach (var grants in new[] { new[] { "reader" }, ["reader:churn"], ["approver"], ["auditor"] })
        {
            using var caller = await Host.ClientWithRoles(grants);
            var before = await Store.TotalEvents();
            Assert.Equal(403, (await caller.Send(HttpMethod.Get, "/api/v1/subscriptions")).Status);
            Assert.Equal(403, (await caller.Send(HttpMethod.Get, $"/api/v1/subscriptions/{hook.Id}")).Status);
            Assert.Equal(403, (await caller.Send(HttpMethod.Post, "/api/v1/subscriptions", new { targetUrl = Target, model = "churn" })).Status);
            Assert.Equal(403, (await caller.Send(HttpMethod.Post, $"/api/v1/subscriptions/{hook.Id}/pause")).Status);
            Assert.Equal(before, await Store.TotalEvents());
        }
        Assert.Equal(401, (await Host.AnonymousClient().Send(HttpMethod.Get, "/api/v1/subscriptions")).Status);
    }
}
