using EventSourcedRegistry.Store;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Plain HTTP calls the tests share; each returns the status and the parsed JSON body.</summary>
public static class RegistryCalls
{
    public static readonly string Sha256A = new('a', 64);
    public static readonly string Sha256B = new('b', 64);

    public sealed record Response(int Status, JsonNode? Body, HttpResponseMessage Raw)
    {
        public string? Header(string name) =>
            Raw.Headers.TryGetValues(name, out var values) || Raw.Content.Headers.TryGetValues(name, out values)
                ? string.Join(",", values)
                : null;

        public string? ETag => Raw.Headers.ETag?.Tag;
    }

    /// <summary>A client that sends the bootstrap admin key.</summary>
    public static HttpClient Client(this IAlbaHost host) => host.ClientWithKey(AppFixture.AdminKey);

    /// <summary>A client that sends no credentials.</summary>
    public static HttpClient AnonymousClient(this IAlbaHost host) => host.Server.CreateClient();

    public static HttpClient ClientWithKey(this IAlbaHost host, string key)
    {
        var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        return client;
    }

    public static async Task<Response> Send(this IAlbaHost host, HttpMethod method, string url, object? body = null,
        IDictionary<string, string>? headers = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(name, value);
        // Headers that carry their own credentials replace the admin key.
        var own = headers?.Keys.Any(h => h.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || h.Equals("X-Api-Key", StringComparison.OrdinalIgnoreCase)) == true;
        using var client = own ? host.AnonymousClient() : host.Client();
        var response = await client.SendAsync(request);
        return await Read(response);
    }

    public static async Task<Response> Send(this HttpClient client, HttpMethod method, string url, object? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        return await Read(await client.SendAsync(request));
    }

    public static async Task<Response> Read(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            // As deep as the registry serves stored JSON (a version's metadata inside a page).
            try { json = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = EventSourcedRegistry.Audit.CanonicalInput.StoredMaxDepth }); }
            catch (JsonException) { json = JsonValue.Create(text); }
        }
        return new Response((int)response.StatusCode, json, response);
    }

    public static Task<Response> Post(this IAlbaHost host, string url, object? body, IDictionary<string, string>? headers = null) =>
        host.Send(HttpMethod.Post, url, body, headers);

    public static Task<Response> Get(this IAlbaHost host, string url) => host.Send(HttpMethod.Get, url);

    public static async Task<Response> RegisterModel(this IAlbaHost host, string name, object? tags = null)
    {
        var response = await host.Post("/api/v1/models", new { name, tags });
        Assert.True(response.Status == 201, $"registering {name}: {response.Status} {response.Body}");
        return response;
    }

    public static async Task<int> RegisterVersion(this IAlbaHost host, string model, string? sha256 = null, object? extra = null)
    {
        var body = new JsonObject
        {
            ["artifact"] = new JsonObject { ["uri"] = $"s3://models/{model}/{Guid.NewGuid():N}.onnx", ["sha256"] = sha256 ?? Sha256A, ["sizeBytes"] = 1234 },
        };
        if (extra is not null)
            foreach (var (key, value) in JsonSerializer.SerializeToNode(extra)!.AsObject())
                body[key] = value?.DeepClone();
        var response = await host.Post($"/api/v1/models/{model}/versions", body);
        Assert.True(response.Status == 201, $"registering a version of {model}: {response.Status} {response.Body}");
        return response.Body!["version"]!.GetValue<int>();
    }

    public static async Task<Response> Promote(this IAlbaHost host, string model, int version, string stage,
        bool archiveExisting = false, string? reason = null, IDictionary<string, string>? headers = null) =>
        await host.Post($"/api/v1/models/{model}/versions/{version}/stage", new { stage, archiveExisting, reason }, headers);

    public static async Task<JsonNode> Model(this IAlbaHost host, string name)
    {
        var response = await host.Get($"/api/v1/models/{name}");
        Assert.True(response.Status == 200, $"reading {name}: {response.Status} {response.Body}");
        return response.Body!;
    }

    /// <summary>The number of events in the model's stream, straight from the store: proof that nothing was appended.</summary>
    public static async Task<long> StreamLength(this IDocumentStore store, string name)
    {
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        var normalized = name.ToLowerInvariant();
        var index = await session.LoadAsync<ModelNameIndex>(normalized);
        Assert.NotNull(index);
        var state = await session.Events.FetchStreamStateAsync(index!.ModelId);
        return state?.Version ?? 0;
    }

    /// <summary>All events in the store, of every stream.</summary>
    public static async Task<long> TotalEvents(this IDocumentStore store)
    {
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        return await session.Events.QueryAllRawEvents().CountAsync();
    }
}
