using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Webhooks;

public static class WebhookCalls
{
    public sealed record Subscribed(string Id, string Secret, JsonNode Subscription);

    public static async Task<Subscribed> Subscribe(this IAlbaHost host, string url, string[]? eventTypes = null, string? model = null, HttpClient? by = null)
    {
        var body = new { targetUrl = url, eventTypes, model };
        var made = by is null ? await host.Post("/api/v1/subscriptions", body) : await by.Send(HttpMethod.Post, "/api/v1/subscriptions", body);
        Assert.True(made.Status == 201, $"subscribing {url}: {made.Status} {made.Body}");
        var subscription = made.Body!["subscription"]!;
        return new Subscribed(subscription["id"]!.GetValue<string>(), made.Body["secret"]!.GetValue<string>(), subscription);
    }

    /// <summary>Polls the subscription until <paramref name="done"/> holds, or fails after 30 s.</summary>
    public static async Task<JsonNode> WaitForSubscription(this IAlbaHost host, string id, Func<JsonNode, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var read = await host.Get($"/api/v1/subscriptions/{id}");
            Assert.Equal(200, read.Status);
            if (done(read.Body!)) return read.Body!;
            Assert.True(DateTime.UtcNow < deadline, $"subscription {id} never {what}: {read.Body}");
            await Task.Delay(20);
        }
    }
}
