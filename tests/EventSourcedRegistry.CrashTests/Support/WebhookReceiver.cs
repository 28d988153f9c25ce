using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>What the receiver's deliveries came to, held against the events the store holds for the subscription.</summary>
public sealed record HookVerdict(int Expected, int Delivered, int Missing, int Unexpected, int Duplicates, int BadIds, int BadSignatures,
    int OrderBreaks, IReadOnlyList<string> Problems);

/// <summary>
/// A webhook receiver on a real socket at 127.0.0.2 (the nodes are started with that address allowed, as the API tests'
/// host is). It records every request it gets, in arrival order, and either answers 200 at once or holds the request
/// (takes it and does not answer) until <see cref="Answer"/>: a delivery in flight when its node is SIGKILLed.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public const string Address = "127.0.0.2";

    /// <summary>One request as it arrived; <c>Held</c>: it was never answered while its sender lived (not a delivery the registry saw taken).</summary>
    public sealed record Delivery(int Index, bool Held, string? Signature, string? DeliveryId, byte[] Body, DateTimeOffset ReceivedAt)
    {
        public JsonNode Event { get; } = JsonNode.Parse(Body)!;
        public string? Id => Event["id"]?.GetValue<string>();
        public long Sequence => Event["data"]!["sequence"]!.GetValue<long>();
        public string EventType => Event["data"]!["eventType"]!.GetValue<string>();
        public Guid ModelId => Guid.Parse(Event["data"]!["modelId"]!.GetValue<string>());
    }

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _holding;
    private int _count;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

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

    /// <summary>From now on every request is taken and left unanswered until <see cref="Answer"/>.</summary>
    public void Hold()
    {
        _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holding = true;
    }

    /// <summary>Answers 200 from now on (and lets the held requests go: their senders are gone by then).</summary>
    public void Answer()
    {
        _holding = false;
        _release.TrySetResult();
    }

    private async Task Receive(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var held = _holding;
        _deliveries.Enqueue(new Delivery(Interlocked.Increment(ref _count), held, context.Request.Headers["Registry-Signature"].ToString(),
            context.Request.Headers["Registry-Delivery"].ToString(), body.ToArray(), DateTimeOffset.UtcNow));
        if (held)
        {
            try { await _release.Task.WaitAsync(context.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
        context.Response.StatusCode = 200;
    }

    public IReadOnlyList<Delivery> All => _deliveries.OrderBy(d => d.Index).ToList();

    /// <summary>Subscribes this receiver to every model event of the default workspace; the subscription's id, secret and starting cursor.</summary>
    public async Task<(Guid Id, string Secret, long Cursor)> Subscribe(HttpClient http, Uri node)
    {
        using var response = await http.SendAsync(Ledger.Request(HttpMethod.Post, node, "api/v1/subscriptions", new { targetUrl = Url }));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True((int)response.StatusCode == 201, $"subscribing {Url}: {(int)response.StatusCode} {body}");
        var subscription = body["subscription"]!;
        return (Guid.Parse(subscription["id"]!.GetValue<string>()), body["secret"]!.GetValue<string>(), subscription["cursor"]!.GetValue<long>());
    }

    /// <summary>The subscription's delivery state as the API shows it (cursor, the attempts at the delivery being retried, its last error).</summary>
    public static async Task<string> State(HttpClient http, Uri node, Guid subscription)
    {
        using var response = await http.SendAsync(Ledger.Request(HttpMethod.Get, node, $"api/v1/subscriptions/{subscription}"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (!response.IsSuccessStatusCode) return $"{(int)response.StatusCode} {body}";
        return $"cursor {body["cursor"]}, attempts {body["attempts"]}, next attempt {body["nextAttemptAt"]}, last error {body["lastError"]}";
    }

    /// <summary>Polls until <paramref name="done"/> holds of what arrived; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitFor(Func<IReadOnlyList<Delivery>, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done(All))
        {
            if (clock.Elapsed > timeout) return false;
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>
    /// A receiver's check, as docs/integration.md shows it: the timestamp within 5 minutes (of the arrival here), and the
    /// HMAC-SHA256 of "&lt;t&gt;.&lt;body&gt;" keyed with the secret's UTF-8 bytes equal, compared in constant time, to the header's v1.
    /// </summary>
    public static bool Verify(string secret, Delivery delivery)
    {
        var parts = (delivery.Signature ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)
            || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (Math.Abs(delivery.ReceivedAt.ToUnixTimeSeconds() - seconds) > 300) return false;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + ".").Concat(delivery.Body).ToArray());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(expected)), Encoding.ASCII.GetBytes(v1));
    }

    /// <summary>
    /// The events the subscription matches, by plain SQL (not the registry's feed reader, which the dispatcher uses): every
    /// event of the models' streams after the subscription's starting cursor (a subscription without filters is sent every
    /// model event), with its model.
    /// </summary>
    public static async Task<IReadOnlyList<(long Sequence, Guid Model)>> Matching(NpgsqlDataSource store, IReadOnlyCollection<Guid> models, long after)
    {
        await using var command = store.CreateCommand(
            $"select seq_id, stream_id from {Ledger.Schema}.mt_events where stream_id = any($1) and seq_id > $2 order by seq_id");
        command.Parameters.Add(new NpgsqlParameter { Value = models.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = after });
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(long, Guid)>();
        while (await reader.ReadAsync()) events.Add((reader.GetInt64(0), reader.GetGuid(1)));
        return events;
    }

    /// <summary>The models' ids as the API reads them.</summary>
    public static async Task<List<Guid>> ModelIds(HttpClient http, Uri node, IEnumerable<string> models)
    {
        var ids = new List<Guid>();
        foreach (var model in models)
        {
            using var response = await http.SendAsync(Ledger.Request(HttpMethod.Get, node, $"api/v1/models/{model}"));
            var body = await response.Content.ReadFromJsonAsync<JsonNode>();
            Assert.True(response.IsSuccessStatusCode, $"reading {model}: {(int)response.StatusCode} {body}");
            ids.Add(Guid.Parse(body!["id"]!.GetValue<string>()));
        }
        return ids;
    }

    /// <summary>
    /// Holds the deliveries against the events: every event delivered (answered) at least once and nothing else; every
    /// request (held ones too) signed with the secret and carrying the delivery id of its subscription and sequence, in its
    /// header and its body; and, per model, each event first sent after every earlier event of that model (a resend of an
    /// event already sent is a duplicate, counted, not an order break).
    /// </summary>
    public static HookVerdict Check(IReadOnlyList<Delivery> deliveries, IReadOnlyList<(long Sequence, Guid Model)> expected, Guid subscription, string secret)
    {
        var problems = new List<string>();
        void Problem(string problem) { if (problems.Count < 20) problems.Add(problem); }
        var answered = deliveries.Where(d => !d.Held).ToList();
        var delivered = answered.Select(d => d.Sequence).ToHashSet();
        var wanted = expected.Select(e => e.Sequence).ToHashSet();
        var missing = wanted.Except(delivered).Order().ToList();
        if (missing.Count > 0) Problem($"not delivered: {missing.Count} events, first {string.Join(", ", missing.Take(10))}");
        var unexpected = delivered.Except(wanted).Order().ToList();
        if (unexpected.Count > 0) Problem($"delivered but not in the store for the subscription: {string.Join(", ", unexpected.Take(10))}");

        var badIds = 0;
        var badSignatures = 0;
        foreach (var d in deliveries)
        {
            var id = $"{subscription:N}-{d.Sequence}";
            if (d.DeliveryId != id || d.Id != id) { badIds++; Problem($"request {d.Index}: delivery id {d.DeliveryId} / {d.Id}, expected {id}"); }
            if (!Verify(secret, d)) { badSignatures++; Problem($"request {d.Index} (sequence {d.Sequence}): signature {d.Signature} does not verify"); }
        }

        var orderBreaks = 0;
        var models = expected.ToDictionary(e => e.Sequence, e => e.Model);
        foreach (var model in deliveries.GroupBy(d => models.TryGetValue(d.Sequence, out var m) ? m : d.ModelId))
        {
            var highest = 0L;
            var sent = new HashSet<long>();
            foreach (var d in model)
            {
                if (!sent.Add(d.Sequence)) continue;
                if (d.Sequence < highest) { orderBreaks++; Problem($"model {model.Key}: sequence {d.Sequence} first sent after {highest}"); }
                highest = Math.Max(highest, d.Sequence);
            }
        }
        var duplicates = answered.Count - delivered.Count;
        return new HookVerdict(wanted.Count, delivered.Count, missing.Count, unexpected.Count, duplicates, badIds, badSignatures, orderBreaks, problems);
    }

    public async ValueTask DisposeAsync()
    {
        Answer();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
