using System.Text.Json;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>One registry event as a delivery carries it: the stored payload and what the store recorded beside it.</summary>
public sealed record DeliveredEvent(
    string Workspace,
    long Sequence,
    string EventType,
    Guid ModelId,
    string? ModelName,
    int? Version,
    DateTimeOffset Time,
    string? Actor,
    string? Reason,
    string? CorrelationId,
    JsonElement Payload);

/// <summary>
/// A registry event as a CloudEvents 1.0 event in structured JSON mode (<c>application/cloudevents+json</c>): what a
/// webhook delivers, and what the pull feed will serve. <c>id</c> is the delivery id, derived from the subscription and the
/// event's sequence, so a delivery sent again (a retry, a replay, a resend after a crash) carries the same id and a
/// receiver deduplicates by it. <c>sequence</c> and <c>workspace</c> are extension attributes (lower-case alphanumerics,
/// as the specification requires); <c>sequence</c> is the event's global sequence in its workspace, as a string.
/// </summary>
public static class CloudEventEnvelope
{
    public const string ContentType = "application/cloudevents+json";
    public const string TypePrefix = "io.eventsourcedregistry.";

    public static string DeliveryId(Guid subscription, long sequence) => $"{subscription:N}-{sequence}";

    /// <summary>The event's source: its workspace and model (the model's id: a name can change, the source may not).</summary>
    public static string Source(string workspace, Guid modelId) => $"/workspaces/{Uri.EscapeDataString(workspace)}/models/{modelId}";

    public static byte[] Write(string id, DeliveredEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("specversion", "1.0");
            json.WriteString("id", id);
            json.WriteString("source", Source(e.Workspace, e.ModelId));
            json.WriteString("type", TypePrefix + e.EventType);
            if (e.ModelName is not null) json.WriteString("subject", e.ModelName);
            json.WriteString("time", e.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("datacontenttype", "application/json");
            json.WriteString("sequence", e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("workspace", e.Workspace);
            json.WriteStartObject("data");
            json.WriteString("eventType", e.EventType);
            json.WriteNumber("sequence", e.Sequence);
            json.WriteString("model", e.ModelName);
            json.WriteString("modelId", e.ModelId);
            if (e.Version is { } version) json.WriteNumber("version", version);
            else json.WriteNull("version");
            json.WriteString("actor", e.Actor);
            json.WriteString("reason", e.Reason);
            json.WriteString("correlationId", e.CorrelationId);
            json.WritePropertyName("event");
            e.Payload.WriteTo(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}

/// <summary>When a failed delivery is tried again: exponential backoff with full jitter (a uniform draw up to the cap).</summary>
public static class WebhookBackoff
{
    /// <summary>
    /// Uniform in [0, min(<paramref name="max"/>, <paramref name="initial"/> · 2^(attempt−1))] for the attempt that failed
    /// (1 for the first); full jitter spreads the retries of many subscriptions failing together (a receiver's outage).
    /// </summary>
    public static TimeSpan Delay(int failedAttempt, TimeSpan initial, TimeSpan max, double draw)
    {
        var exponent = Math.Min(Math.Max(failedAttempt - 1, 0), 40);
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ceiling * Math.Clamp(draw, 0, 1));
    }
}
