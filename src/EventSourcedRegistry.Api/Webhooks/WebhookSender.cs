using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>What one delivery attempt came to.</summary>
public sealed record DeliveryOutcome(bool Delivered, bool Gone, string? Error)
{
    public static readonly DeliveryOutcome Ok = new(true, false, null);
}

/// <summary>
/// Sends one signed delivery. The connection is made by <see cref="ConnectAsync"/>, which resolves the target's name itself
/// and connects only to an address <see cref="WebhookTargetPolicy"/> permits: the address checked is the address connected
/// to, whatever the name resolved to when the subscription was made (DNS rebinding). No proxy (it would connect instead),
/// no redirects (a receiver could redirect into the registry's network), a connect and a total timeout, and at most
/// <see cref="WebhookOptions.MaxAnswerBytes"/> of the answer read.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly AllowedTargets _allowed;

    public WebhookSender(WebhookOptions options)
    {
        _allowed = AllowedTargets.Parse(options.AllowedTargets);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            // Names are resolved again at each new connection, never trusted for long.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = options.Timeout };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("EventSourcedRegistry-Webhooks", "1"));
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var byName = _allowed.AllowsHost(host);
        var permitted = addresses.Where(a => byName || WebhookTargetPolicy.Refusal(a, _allowed) is null).ToList();
        if (permitted.Count == 0)
        {
            var refused = addresses.Select(a => $"{a} ({WebhookTargetPolicy.Refusal(a, _allowed)})");
            throw new HttpRequestException($"refused to connect to {host}: it resolves to {string.Join(", ", refused)}, which the registry does not call " +
                                           $"unless {WebhookOptions.Section}:AllowedTargets allows it");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted.ToArray(), context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<DeliveryOutcome> SendAsync(Uri target, string deliveryId, byte[] body, string secret, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(CloudEventEnvelope.ContentType + "; charset=utf-8");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body));
        request.Headers.TryAddWithoutValidation(WebhookSignature.DeliveryHeader, deliveryId);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) return DeliveryOutcome.Ok;
            var answer = await Start(response, ct);
            var error = $"HTTP {status}" + (answer.Length > 0 ? $": {answer}" : "");
            return new DeliveryOutcome(false, response.StatusCode == HttpStatusCode.Gone, error);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryOutcome(false, false, "timed out");
        }
        catch (HttpRequestException e)
        {
            return new DeliveryOutcome(false, false, e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }
    }

    /// <summary>The start of the answer's body, for the subscription's last error: never more than the cap is read.</summary>
    private static async Task<string> Start(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[WebhookOptions.MaxAnswerBytes];
            var read = 0;
            while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
            var text = Encoding.UTF8.GetString(buffer, 0, read);
            return new string(text.Where(c => !char.IsControl(c)).Take(200).ToArray());
        }
        catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException)
        {
            return "";
        }
    }

    public void Dispose() => _client.Dispose();
}
