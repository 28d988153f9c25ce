using EventSourcedRegistry.Store;
using Alba;
using EventSourcedRegistry.Models;
using JasperFx.Events;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Calls and store reads the behaviour tests share beyond <see cref="RegistryCalls"/>.</summary>
public static class Behaviour
{
    public static Dictionary<string, string> Headers(params (string Name, string Value)[] headers) =>
        headers.ToDictionary(h => h.Name, h => h.Value);

    public static Dictionary<string, string> IfMatch(string? etag) => Headers(("If-Match", etag!));

    public static Dictionary<string, string> IdempotencyKey(string key) => Headers(("Idempotency-Key", key));

    public static Task<RegistryCalls.Response> Patch(this IAlbaHost host, string url, object body, IDictionary<string, string>? headers = null) =>
        host.Send(HttpMethod.Patch, url, body, headers);

    public static Task<RegistryCalls.Response> Put(this IAlbaHost host, string url, object body, IDictionary<string, string>? headers = null) =>
        host.Send(HttpMethod.Put, url, body, headers);

    public static Task<RegistryCalls.Response> Delete(this IAlbaHost host, string url, IDictionary<string, string>? headers = null) =>
        host.Send(HttpMethod.Delete, url, headers: headers);

    public static Task<RegistryCalls.Response> RegisterVersionWith(this IAlbaHost host, string model,
        IDictionary<string, string>? headers = null, string sha256 = "", string uri = "s3://models/artifact.onnx") =>
        host.Post($"/api/v1/models/{model}/versions",
            new { artifact = new { uri, sha256 = sha256.Length > 0 ? sha256 : RegistryCalls.Sha256A, sizeBytes = 1234 } }, headers);

    public static async Task<RegistryCalls.Response> Ok(this Task<RegistryCalls.Response> call, int status = 200)
    {
        var response = await call;
        Assert.True(response.Status == status, $"expected {status}, got {response.Status}: {response.Body}");
        return response;
    }

    public static async Task<Guid> ModelId(this IDocumentStore store, string name)
    {
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        var index = await session.LoadAsync<ModelNameIndex>(name.ToLowerInvariant());
        Assert.NotNull(index);
        return index!.ModelId;
    }

    /// <summary>The model's events with their metadata (actor, correlation, causation, headers), oldest first.</summary>
    public static async Task<IReadOnlyList<IEvent>> EventsOf(this IDocumentStore store, string name)
    {
        var id = await store.ModelId(name);
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        return await session.Events.FetchStreamAsync(id);
    }

    /// <summary>
    /// Events of the registry's own types. A rolled-back append leaves Marten "tombstone" rows in the event
    /// table to fill the sequence gap; they are bookkeeping, not something the registry appended.
    /// </summary>
    public static async Task<long> RegistryEvents(this IDocumentStore store)
    {
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        var events = await session.Events.QueryAllRawEvents().ToListAsync();
        return events.Count(e => RegistryEventTypes.Contains(e.EventType));
    }

    private static readonly HashSet<Type> RegistryEventTypes = [.. EventSourcedRegistry.Store.RegistryStore.EventTypes];

    public static string? Reason(this IEvent e) =>
        e.Headers is { } headers && headers.TryGetValue("reason", out var reason) ? reason?.ToString() : null;
}
