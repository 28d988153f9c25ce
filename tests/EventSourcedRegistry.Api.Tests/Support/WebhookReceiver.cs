using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// A webhook receiver on a real socket, at 127.0.0.2 (the test host allows that address and no other non-public one): it
/// records every delivery, and answers what <see cref="Answer"/> says (200 by default).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const string Address = "127.0.0.2";

    public sealed record Delivery(int Answered, string? Signature, string? DeliveryId, string ContentType, byte[] Body)
    {
        public JsonNode Event => JsonNode.Parse(Body)!;
        public long Sequence => long.Parse(Event["sequence"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Delivery> _deliveries = new();

    /// <summary>The status to answer the n-th request (from 1) with.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;

    public string Url { get; private set; } = "";

    private int _count;

    private WebhookReceiver(WebApplication app) => _app = app;

    public static async Task<WebhookReceiver> Start()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls($"http://{Address}:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.Receive);
        await app.StartAsync();
        receiver.Url = app.Urls.Single().TrimEnd('/') + "/hooks/registry";
        return receiver;
    }

    private async Task Receive(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var status = Answer(Interlocked.Increment(ref _count));
        _deliveries.Enqueue(new Delivery(status, context.Request.Headers["Registry-Signature"].ToString(),
            context.Request.Headers["Registry-Delivery"].ToString(), context.Request.ContentType ?? "", body.ToArray()));
        context.Response.StatusCode = status;
    }

    public IReadOnlyList<Delivery> All => _deliveries.ToList();

    public IReadOnlyList<Delivery> Accepted => _deliveries.Where(d => d.Answered is >= 200 and < 300).ToList();

    /// <summary>Polls until <paramref name="done"/> holds of what arrived, or fails after <paramref name="within"/> (the machine is loaded: generous).</summary>
    public async Task<IReadOnlyList<Delivery>> WaitFor(Func<IReadOnlyList<Delivery>, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!done(All))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the receiver did not get {what}; it got {All.Count} request(s): " +
                                                    string.Join(", ", All.Select(d => $"{d.Answered} {d.DeliveryId}")));
            await Task.Delay(20);
        }
        return All;
    }

    /// <summary>
    /// A receiver's check, exactly as docs/integration.md shows it: the timestamp within 5 minutes, and the HMAC-SHA256 of
    /// "&lt;t&gt;.&lt;body&gt;" keyed with the secret's UTF-8 bytes equal, compared in constant time, to the header's v1.
    /// </summary>
    public static bool Verify(string secret, Delivery delivery)
    {
        var parts = (delivery.Signature ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) || !long.TryParse(t, out var seconds)) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + ".").Concat(delivery.Body).ToArray());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(expected)), Encoding.ASCII.GetBytes(v1));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
