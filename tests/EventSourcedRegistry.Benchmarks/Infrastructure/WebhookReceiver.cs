using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>One delivery as the receiver took it: when it arrived (stopwatch ticks), in which order, and what it carried.</summary>
public sealed record Receipt(long Arrived, long Order, string DeliveryId, string? Model, long Sequence, string? Reason);

/// <summary>
/// A CD system's webhook receiver on a loopback port: takes the arrival time of each request as it is accepted, checks
/// its <c>Registry-Signature</c> as docs/integration.md tells a receiver to (written here from that page, not with the
/// product's own check, so a signature the product and a receiver disagree on counts as a failure), and answers 200, or
/// 503 while <see cref="Down"/> (a receiver's outage, counted but not kept).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<Receipt> _receipts = new();
    private long _order;
    private long _refused;
    private long _badSignatures;
    private long _unreadable;
    private volatile bool _down;

    private WebhookReceiver(int port)
    {
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Endpoint { get; }

    /// <summary>The subscription's signing secret, known once the subscription is made (nothing is delivered before).</summary>
    public string Secret { get; set; } = "";

    /// <summary>True: every request is answered 503 and not kept (the receiver is "down").</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    public long Refused => Interlocked.Read(ref _refused);
    public long BadSignatures => Interlocked.Read(ref _badSignatures);
    public long Unreadable => Interlocked.Read(ref _unreadable);
    public IReadOnlyCollection<Receipt> Receipts => _receipts;

    public static WebhookReceiver Start() => new(ApiProcess.FreePort());

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            // The arrival instant and order are taken here, before the body is read; the dispatcher sends one delivery at a
            // time per subscription, so arrival order is send order.
            var arrived = Stopwatch.GetTimestamp();
            var order = Interlocked.Increment(ref _order);
            _ = Task.Run(() => Handle(context, arrived, order));
        }
    }

    private async Task Handle(HttpListenerContext context, long arrived, long order)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (_down)
            {
                Interlocked.Increment(ref _refused);
                context.Response.StatusCode = 503;
                return;
            }
            var bytes = body.ToArray();
            if (!Verify(Secret, context.Request.Headers["Registry-Signature"], bytes))
            {
                Interlocked.Increment(ref _badSignatures);
                context.Response.StatusCode = 401;
                return;
            }
            if (Parse(bytes, arrived, order) is { } receipt) _receipts.Enqueue(receipt);
            else Interlocked.Increment(ref _unreadable);
            context.Response.StatusCode = 200;
        }
        catch (Exception e) when (e is HttpListenerException or IOException)
        {
            context.Response.StatusCode = 400;
        }
        finally
        {
            try { context.Response.Close(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
        }
    }

    /// <summary>A CloudEvent's id, subject (the model), and its data's sequence and reason; null when it is not one.</summary>
    private static Receipt? Parse(byte[] body, long arrived, long order)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var data = root.GetProperty("data");
            return new Receipt(arrived, order, root.GetProperty("id").GetString()!,
                root.TryGetProperty("subject", out var subject) ? subject.GetString() : null,
                data.GetProperty("sequence").GetInt64(),
                data.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>docs/integration.md's check: the timestamp within 5 minutes, the HMAC-SHA256 over "t.body" equal in constant time.</summary>
    public static bool Verify(string secret, string? header, byte[] body)
    {
        if (string.IsNullOrEmpty(header) || secret.Length == 0) return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) ||
            !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300) return false;
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes(t + "."), .. body]);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac)), Encoding.ASCII.GetBytes(v1));
    }

    /// <summary>The header a registry would send with <paramref name="body"/>, for the harness's own round trips (the floor).</summary>
    public static string Sign(string secret, byte[] body)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes(t + "."), .. body]);
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
    }
}
