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

    private readonly Dictionary<string, string> _adminsOf = new(StringComparer.Ordinal);

    /// <summary>
    /// A platform key holding admin in each of <paramref name="workspaces"/> (comma-separated) that exists, made once
    /// per test with the bootstrap key; the bootstrap key itself when none exists (it is a member of default only).
    /// </summary>
    protected async Task<string> AdminOf(string workspaces)
    {
        if (_adminsOf.TryGetValue(workspaces, out var known)) return known;
        var existing = (await RegistryCalls.Read(await Host.ClientWithKey(AppFixture.AdminKey).GetAsync("/api/v1/workspaces"))).Body!["items"]!
            .AsArray().Select(w => w!["slug"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var slugs = workspaces.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(existing.Contains).ToList();
        var key = AppFixture.AdminKey;
        if (slugs.Count > 0)
        {
            using var client = Host.ClientWithKey(AppFixture.AdminKey);
            var made = await client.Send(HttpMethod.Post, "/api/v1/platform/keys", new
            {
                name = $"admin-{Guid.NewGuid():N}", owner = $"admin-{Guid.NewGuid():N}",
                grants = slugs.Select(slug => new { role = "admin", workspace = slug }).ToArray(),
            });
            Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
            key = made.Body!["key"]!.GetValue<string>();
        }
        return _adminsOf[workspaces] = key;
    }

    /// <summary>A key of <paramref name="workspace"/> holding <paramref name="role"/> there, made by its admin.</summary>
    protected async Task<string> KeyIn(string workspace, string role)
    {
        using var client = Host.ClientWithKey(await AdminOf(workspace));
        var made = await client.Send(HttpMethod.Post, $"/api/v1/workspaces/{workspace}/admin/keys",
            new { name = $"{role}-{Guid.NewGuid():N}", owner = $"{role}-{Guid.NewGuid():N}", grants = new[] { new { role } } });
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!["key"]!.GetValue<string>();
    }

    /// <summary>
    /// Sends a request with <paramref name="key"/> (the bootstrap key by default: the platform admin, and admin of
    /// default). <paramref name="workspaces"/> (comma-separated) makes the caller a member of those workspaces: with the
    /// bootstrap key, the request goes with a platform key holding admin in each (<see cref="AdminOf"/>); another key
    /// is what it is (its own workspace's).
    /// </summary>
    protected async Task<RegistryCalls.Response> Send(HttpMethod method, string url, object? body = null, string? workspaces = null,
        string? key = AppFixture.AdminKey, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, body.GetType());
        if (workspaces is not null && key == AppFixture.AdminKey) key = await AdminOf(workspaces);
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
            // Per response whatever is asked: the date, the trace, and a correlation id the server draws when the caller sends none.
            .Where(h => h.Key is not ("Date" or "traceparent" or "X-Correlation-Id"))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => $"{h.Key}: {string.Join(",", h.Value)}");
        var body = response.Body?.DeepClone();
        if (body is JsonObject json) json.Remove("traceId");
        return $"{response.Status}\n{string.Join("\n", headers)}\n{body?.ToJsonString()}";
    }
}
