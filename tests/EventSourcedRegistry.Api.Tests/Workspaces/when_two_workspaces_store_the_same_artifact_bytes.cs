using Alba;
using Azure.Storage.Blobs.Models;
using EventSourcedRegistry.Api.Tests.Artifacts;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Content-addressed storage per workspace, on each backend: the same bytes uploaded in two workspaces are two blobs
/// (default's under <c>sha256/</c> as before workspaces, team-b's under <c>ws/team-b/sha256/</c>), and nothing one
/// workspace can ask (upload, HEAD, download, verify, the orphan list and sweep) says whether the other holds bytes.
/// Guards the dedup across the whole store that would have told team-b, by a 200 instead of a 201 or a HEAD, that
/// default had stored those bytes.
/// </summary>
[Collection(AppCollection.Name)]
public abstract class WorkspaceArtifactsContract(AppFixture app) : IAsyncLifetime
{
    protected static readonly WorkspaceId TeamB = WorkspaceId.Parse("team-b");

    protected AppFixture App { get; } = app;
    protected abstract IAlbaHost Host { get; }

    /// <summary>Every name the backend holds, relative to the store's root.</summary>
    protected abstract Task<List<string>> StoredNames();

    protected abstract Task StartAsync();

    public async Task InitializeAsync()
    {
        await StartAsync();
        await App.ResetAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task the_same_bytes_uploaded_in_two_workspaces_are_two_blobs_and_each_first_upload_is_new()
    {
        var a = await WorkspaceClient.Open(Host, WorkspaceId.Default);
        var b = await WorkspaceClient.Open(Host, TeamB);
        var bytes = TestContent.Bytes(2001, 70_000);
        var sha256 = TestContent.Sha256(bytes);

        var inA = await a.Upload(bytes);
        var inB = await b.Upload(bytes);
        var againInB = await b.Upload(bytes);

        // The admin may read everything in each workspace, so a 200 in team-b would say "stored already" (by default).
        Assert.Equal(201, inA.Status);
        Assert.Equal(201, inB.Status);
        Assert.Equal(200, againInB.Status);
        // The link carries the workspace's prefix (what the routing middleware leaves for /api/v1/workspaces/team-b/…).
        Assert.Equal($"/api/v1/workspaces/team-b/artifacts/{sha256}", inB.Body!["uri"]!.GetValue<string>());
        Assert.Equal([$"sha256/{sha256}", $"ws/team-b/sha256/{sha256}"], await StoredNames());
    }

    [Fact]
    public async Task head_download_and_verify_in_one_workspace_answer_as_if_the_others_bytes_did_not_exist()
    {
        var a = await WorkspaceClient.Open(Host, WorkspaceId.Default);
        var b = await WorkspaceClient.Open(Host, TeamB);
        var bytes = TestContent.Bytes(2002, 5_000);
        var sha256 = TestContent.Sha256(bytes);
        var never = TestContent.Sha256(TestContent.Bytes(2003, 5_000));
        await a.Ok(a.Upload(bytes), 201);

        Assert.Equal(200, (await a.Head($"/api/v1/artifacts/{sha256}")).Status);
        Assert.Equal(404, (await b.Head($"/api/v1/artifacts/{sha256}")).Status);
        var download = await b.Get($"/api/v1/artifacts/{sha256}");
        var unknown = await b.Get($"/api/v1/artifacts/{never}");
        Assert.Equal(404, download.Status);
        Assert.Equal(unknown.Body!["title"]!.GetValue<string>(), download.Body!["title"]!.GetValue<string>());
        Assert.Equal(unknown.Body!["detail"]!.GetValue<string>().Replace(never, sha256), download.Body!["detail"]!.GetValue<string>());
        Assert.Equal(404, (await b.Get($"/api/v1/artifacts/{sha256}/verify")).Status);
        // Nor can a version in team-b be registered on default's bytes.
        await b.Ok(b.Post("/api/v1/models", new { name = "churn" }), 201);
        Assert.Equal(422, (await b.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 } })).Status);
        Assert.Equal([$"sha256/{sha256}"], await StoredNames());
    }

    [Fact]
    public async Task each_workspace_sweeps_only_its_own_orphans_and_only_its_own_versions_keep_bytes()
    {
        var a = await WorkspaceClient.Open(Host, WorkspaceId.Default);
        var b = await WorkspaceClient.Open(Host, TeamB);
        var bytes = TestContent.Bytes(2004, 9_000);
        var sha256 = TestContent.Sha256(bytes);
        await a.Ok(a.Upload(bytes), 201);
        await b.Ok(b.Upload(bytes), 201);
        // default registers a version on its copy; team-b's copy stays an orphan of team-b.
        await a.Ok(a.Post("/api/v1/models", new { name = "churn" }), 201);
        await a.Ok(a.Post("/api/v1/models/churn/versions", new { artifact = new { sha256 } }), 201);

        Assert.Empty((await a.Ok(a.Get("/api/v1/admin/artifacts/orphans"))).Body!["orphans"]!.AsArray());
        var orphansOfB = (await b.Ok(b.Get("/api/v1/admin/artifacts/orphans"))).Body!["orphans"]!.AsArray();
        Assert.Equal([sha256], orphansOfB.Select(o => o!["sha256"]!.GetValue<string>()));

        var swept = (await b.Ok(b.Delete("/api/v1/admin/artifacts/orphans?olderThan=0s"))).Body!;

        Assert.Equal([sha256], swept["deleted"]!.AsArray().Select(o => o!["sha256"]!.GetValue<string>()));
        Assert.Equal([$"sha256/{sha256}"], await StoredNames());
        Assert.Equal(200, (await a.Get($"/api/v1/artifacts/{sha256}")).Status);
        Assert.Equal(404, (await b.Get($"/api/v1/artifacts/{sha256}")).Status);
        // default's sweep finds nothing to delete: its copy is referenced, and team-b's was never default's.
        Assert.Empty((await a.Ok(a.Delete("/api/v1/admin/artifacts/orphans?olderThan=0s"))).Body!["deleted"]!.AsArray());
    }
}

public sealed class when_two_workspaces_store_the_same_artifact_bytes_on_the_file_system(AppFixture app) : WorkspaceArtifactsContract(app)
{
    protected override IAlbaHost Host => App.Host;

    protected override Task StartAsync() => Task.CompletedTask;

    protected override Task<List<string>> StoredNames()
    {
        var root = App.ArtifactsDirectory;
        return Task.FromResult(Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : []);
    }

    [Fact]
    public async Task each_workspace_counts_its_own_bytes_against_its_own_quota()
    {
        // The limited host allows 100,000 bytes per workspace.
        var host = await App.LimitedHost();
        var a = await WorkspaceClient.Open(host, WorkspaceId.Default, Caller());
        var b = await WorkspaceClient.Open(host, TeamB, Caller());
        var bytes = TestContent.Bytes(2010, 60_000);

        await a.Ok(a.Upload(bytes), 201);
        // default holds 60,000 bytes: team-b's first 60,000 fit its own quota, the same bytes or others.
        await b.Ok(new WorkspaceClient(host, TeamB, Caller()).Upload(bytes), 201);
        var fullA = await new WorkspaceClient(host, WorkspaceId.Default, Caller()).Upload(TestContent.Bytes(2011, 60_000));
        var fullB = await new WorkspaceClient(host, TeamB, Caller()).Upload(TestContent.Bytes(2012, 60_000));
        var fits = await new WorkspaceClient(host, TeamB, Caller()).Upload(TestContent.Bytes(2013, 30_000));

        Assert.Equal(507, fullA.Status);
        Assert.Equal(507, fullB.Status);
        Assert.Equal(201, fits.Status);
        var root = App.LimitedArtifactsDirectory;
        Assert.Equal(2, Directory.GetFiles(Path.Combine(root, "ws", "team-b", "sha256")).Length);
        Assert.Single(Directory.GetFiles(Path.Combine(root, "sha256")));
        await using var connection = new NpgsqlConnection(App.LimitedConnectionString);
        await connection.OpenAsync();
        await using var reservations = new NpgsqlCommand("select count(*) from registry.artifact_quota_reservations", connection);
        Assert.Equal(0L, await reservations.ExecuteScalarAsync());
    }

    /// <summary>A fresh token subject per upload: the limited host's per-caller upload burst never refuses one of these.</summary>
    /// <summary>A token of a contributor in default and in team-b (a token's role names its workspace before a slash).</summary>
    private static string Caller() => "Bearer " + Support.Access.Token($"caller-{Guid.NewGuid():N}", ["contributor", "team-b/contributor"]);
}

public sealed class when_two_workspaces_store_the_same_artifact_bytes_on_azure_blob_storage(AppFixture app, AzuriteFixture azurite,
    AzureArtifactHost host) : WorkspaceArtifactsContract(app), IClassFixture<AzureArtifactHost>
{
    protected override IAlbaHost Host => host.Host!;

    protected override async Task StartAsync()
    {
        await host.StartAsync(App, azurite);
        await foreach (var blob in host.Container!.GetBlobsAsync(new GetBlobsOptions()))
            await host.Container.DeleteBlobIfExistsAsync(blob.Name);
    }

    protected override async Task<List<string>> StoredNames()
    {
        var names = new List<string>();
        await foreach (var blob in host.Container!.GetBlobsAsync(new GetBlobsOptions())) names.Add(blob.Name);
        return names.Order(StringComparer.Ordinal).ToList();
    }
}
