using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Calls addressed to a workspace other than <c>default</c>. Until the prefix routing exists, a request addresses its
/// workspace the way that routing will: through the <see cref="IWorkspaceFeature"/> on its HttpContext.
/// </summary>
public static class WorkspaceCalls
{
    /// <summary>A workspace of its own for one test, registered in the store as the workspace directory will.</summary>
    public static async Task<WorkspaceId> NewWorkspace(this AppFixture app, string prefix = "team")
    {
        var workspace = WorkspaceId.Parse($"{prefix}-{Guid.NewGuid():N}"[..20]);
        await WorkspacePartitions.AddAsync(app.Store, workspace, CancellationToken.None);
        await app.Host.CreateInDirectory(workspace);
        return workspace;
    }

    public static async Task<RegistryCalls.Response> SendIn(this IAlbaHost host, WorkspaceId workspace, HttpMethod method, string url,
        object? body = null, IDictionary<string, string>? headers = null)
    {
        var key = await host.AdminKeyOf(workspace);
        var result = await host.Scenario(s =>
        {
            s.ConfigureHttpContext(http => http.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(workspace)));
            s.WithRequestHeader("Authorization", $"ApiKey {key}");
            foreach (var (name, value) in headers ?? new Dictionary<string, string>()) s.WithRequestHeader(name, value);
            if (method == HttpMethod.Post) s.Post.Json(body ?? new { }).ToUrl(url);
            else if (method == HttpMethod.Get) s.Get.Url(url);
            else throw new ArgumentOutOfRangeException(nameof(method), method, "GET or POST");
            s.IgnoreStatusCode();
        });
        var text = await result.ReadAsTextAsync();
        return new RegistryCalls.Response(result.Context.Response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null,
            new HttpResponseMessage((System.Net.HttpStatusCode)result.Context.Response.StatusCode));
    }

    public static Task<RegistryCalls.Response> PostIn(this IAlbaHost host, WorkspaceId workspace, string url, object body,
        IDictionary<string, string>? headers = null) =>
        host.SendIn(workspace, HttpMethod.Post, url, body, headers);

    public static Task<RegistryCalls.Response> GetIn(this IAlbaHost host, WorkspaceId workspace, string url) =>
        host.SendIn(workspace, HttpMethod.Get, url);

    /// <summary>The last value of the workspace's own event sequence (<c>mt_events_sequence_&lt;suffix&gt;</c>).</summary>
    public static async Task<long> SequenceValue(this AppFixture app, WorkspaceId workspace)
    {
        await using var data = NpgsqlDataSource.Create(app.ConnectionString);
        var suffix = await WorkspacePartitions.SuffixAsync(data, workspace, CancellationToken.None);
        Assert.NotNull(suffix);
        return (await app.SqlList<long>($"select last_value from {WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}")).Single();
    }

    /// <summary>Every event sequence number of the workspace, ascending.</summary>
    public static Task<List<long>> SequencesIn(this AppFixture app, WorkspaceId workspace) =>
        app.SqlList<long>("select seq_id from registry.mt_events where tenant_id = $1 order by seq_id", workspace.TenantId);

    /// <summary>Waits (generously: the machine is shared) until the daemon's mark for the workspace has reached its newest event.</summary>
    public static async Task WaitForHighWaterMark(this AppFixture app, WorkspaceId workspace)
    {
        var target = (await app.SequencesIn(workspace)).DefaultIfEmpty(0).Max();
        await using var data = NpgsqlDataSource.Create(app.ConnectionString);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long mark;
        while ((mark = await History.StorePosition.HighWaterMark(data, RegistryStore.Schema, workspace, CancellationToken.None)) < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The high-water mark of {workspace} stayed at {mark}; its newest event is {target}.");
            await Task.Delay(50);
        }
    }
}
