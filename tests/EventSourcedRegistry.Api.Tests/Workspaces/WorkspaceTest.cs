using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>Base of the workspace tests: the workspaces host (see <see cref="AppFixture.WorkspacesHost"/>), reset before each test.</summary>
[Collection(AppCollection.Name)]
public abstract class WorkspaceTest(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;
    protected IAlbaHost Host { get; private set; } = null!;
    protected IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    public async Task InitializeAsync() => Host = await App.WorkspacesHost();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A slug no earlier test used (partitions outlive the per-test reset).</summary>
    protected static string NewSlug(string stem = "ws") => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 13)];

    /// <summary>
    /// Sends a request with the bootstrap key (the platform admin) or <paramref name="key"/>, as a member of
    /// <paramref name="workspaces"/> (comma-separated; null: what the product makes of the key: <c>default</c>).
    /// </summary>
    protected async Task<RegistryCalls.Response> Send(HttpMethod method, string url, object? body = null, string? workspaces = null,
        string? key = AppFixture.AdminKey, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        if (workspaces is not null) request.Headers.Add(AppFixture.WorkspacesHeader, workspaces);
        using var client = key is null ? Host.AnonymousClient() : Host.ClientWithKey(key);
        return await RegistryCalls.Read(await client.SendAsync(request));
    }

    protected Task<RegistryCalls.Response> Get(string url, string? workspaces = null, string? key = AppFixture.AdminKey) =>
        Send(HttpMethod.Get, url, null, workspaces, key);

    protected Task<RegistryCalls.Response> Post(string url, object? body, string? workspaces = null, string? key = AppFixture.AdminKey) =>
        Send(HttpMethod.Post, url, body, workspaces, key);

    /// <summary>Creates a workspace as the platform admin.</summary>
    protected async Task<string> CreateWorkspace(string? slug = null, string? displayName = null)
    {
        slug ??= NewSlug();
        var response = await Post("/api/v1/workspaces", new { slug, displayName = displayName ?? $"Workspace {slug}" });
        Assert.True(response.Status == 201, $"creating {slug}: {response.Status} {response.Body}");
        return slug;
    }

    /// <summary>Every event of the platform tenant (the directory's): proof that a refusal appended nothing there.</summary>
    protected async Task<long> PlatformEvents()
    {
        await using var session = Store.QuerySession(WorkspaceId.Platform.TenantId);
        return await session.Events.QueryAllRawEvents().CountAsync();
    }

    /// <summary>Status, content type, headers but the ones that differ per response (date, trace), and the body without its trace id.</summary>
    protected static string Fingerprint(RegistryCalls.Response response)
    {
        var headers = response.Raw.Headers.Concat(response.Raw.Content.Headers)
            .Where(h => h.Key is not ("Date" or "traceparent"))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => $"{h.Key}: {string.Join(",", h.Value)}");
        var body = response.Body?.DeepClone();
        if (body is JsonObject json) json.Remove("traceId");
        return $"{response.Status}\n{string.Join("\n", headers)}\n{body?.ToJsonString()}";
    }
}
