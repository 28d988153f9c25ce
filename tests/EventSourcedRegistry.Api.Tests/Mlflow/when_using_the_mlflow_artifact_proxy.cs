using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Artifacts;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Mlflow;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// MLflow's artifact proxy (<c>/api/2.0/mlflow-artifacts/artifacts</c>) on the workspace's content-addressed store: a
/// version created from its files is bound to their manifest digest, any other source stays an unverified reference; a
/// damaged blob fails its download; hostile paths touch nothing; the roles and grants of <c>/api/v1</c> hold, and
/// nothing leaks to a caller scoped to another model or in another workspace.
/// </summary>
public sealed class when_using_the_mlflow_artifact_proxy(AppFixture app) : MlflowTest(app)
{
    private static readonly byte[] MlModel = Encoding.UTF8.GetBytes("flavors:\n  python_function: {}\n");
    private static readonly byte[] Weights = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    private sealed record Answer(int Status, string ContentType, byte[] Bytes)
    {
        public JsonNode? Json => ContentType == "application/json" ? JsonNode.Parse(Bytes) : null;
        public string? Code => Json?["error_code"]?.GetValue<string>();
        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    private async Task<Answer> Artifacts(string ws, HttpMethod method, string rest, string key, byte[]? body = null)
    {
        using var request = new HttpRequestMessage(method, $"/api/v1/workspaces/{ws}/api/2.0/mlflow-artifacts/artifacts{rest}");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var client = Host.Server.CreateClient();
        using var response = await client.SendAsync(request);
        return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>
    /// A request whose path reaches the server exactly as given, as the server sees it after decoding: an HttpClient would
    /// remove dot segments first, and a proxy in front may not.
    /// </summary>
    private async Task<Answer> Raw(string ws, HttpMethod method, string rest, string key, byte[]? body = null)
    {
        var context = await Host.Server.SendAsync(http =>
        {
            http.Request.Method = method.Method;
            http.Request.Path = $"/api/v1/workspaces/{ws}/api/2.0/mlflow-artifacts/artifacts{rest}";
            http.Request.Headers.Authorization = $"Bearer {key}";
            if (body is null) return;
            http.Request.ContentType = "application/octet-stream";
            http.Request.ContentLength = body.Length;
            http.Request.Body = new MemoryStream(body);
        });
        var bytes = new MemoryStream();
        await context.Response.Body.CopyToAsync(bytes);
        return new Answer(context.Response.StatusCode, (context.Response.ContentType ?? "").Split(';')[0], bytes.ToArray());
    }

    private async Task<string> KeyFor(string ws, string role, string model)
    {
        var made = await Send(HttpMethod.Post, $"/api/v1/workspaces/{ws}/admin/keys",
            new { name = $"{role}-{Guid.NewGuid():N}", owner = $"{role}-{Guid.NewGuid():N}", grants = new[] { new { role, model } } }, workspaces: ws);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!["key"]!.GetValue<string>();
    }

    private async Task<int> FilesIn(string ws)
    {
        await using var session = Store.QuerySession(ws);
        return await session.Query<MlflowArtifactFile>().CountAsync();
    }

    private static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task a_version_on_its_uploaded_files_is_verified_by_their_manifest_and_a_source_elsewhere_is_not()
    {
        var ws = await CreateWorkspace();
        var admin = await KeyIn(ws, "admin");
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", admin, MlModel)).Status);
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/data/weights.bin", admin, Weights)).Status);
        var listed = await Artifacts(ws, HttpMethod.Get, "?path=churn/1/model", admin);
        Assert.Equal("""{"files":[{"path":"MLmodel","is_dir":false,"file_size":31},{"path":"data","is_dir":true}]}""", listed.Text);

        var bearer = Credential.Bearer(admin);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "churn" }, bearer)).Status);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = "mlflow-artifacts:/churn/1/model" }, bearer)).Status);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = "s3://bucket/churn/2" }, bearer)).Status);

        var verified = (await Get($"/api/v1/workspaces/{ws}/models/churn/versions/1", key: admin)).Body!["artifact"]!;
        Assert.True(verified["verified"]!.GetValue<bool>());
        Assert.Equal(MlflowArtifactPaths.ManifestDigest([("MLmodel", Sha256Of(MlModel)), ("data/weights.bin", Sha256Of(Weights))]),
            verified["sha256"]!.GetValue<string>());
        Assert.Equal(MlModel.Length + Weights.Length, verified["sizeBytes"]!.GetValue<long>());
        var reference = (await Get($"/api/v1/workspaces/{ws}/models/churn/versions/2", key: admin)).Body!["artifact"]!;
        Assert.False(reference["verified"]!.GetValue<bool>());
        Assert.Equal("", reference["sha256"]!.GetValue<string>());

        // get-download-uri: the proxy's location for files on the store, the source as given for any other.
        Assert.Equal("mlflow-artifacts:/churn/1/model",
            (await Mlflow(ws, HttpMethod.Get, "model-versions/get-download-uri", new { name = "churn", version = "1" }, bearer)).Body!["artifact_uri"]!.GetValue<string>());
        Assert.Equal("s3://bucket/churn/2",
            (await Mlflow(ws, HttpMethod.Get, "model-versions/get-download-uri", new { name = "churn", version = "2" }, bearer)).Body!["artifact_uri"]!.GetValue<string>());

        // Write-once: the bound bytes cannot be swapped under the version; the same bytes again are a retried upload.
        var swapped = await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", admin, Encoding.UTF8.GetBytes("flavors: {}\n"));
        Assert.Equal((400, "RESOURCE_ALREADY_EXISTS"), (swapped.Status, swapped.Code));
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", admin, MlModel)).Status);
        var served = await Artifacts(ws, HttpMethod.Get, "/churn/1/model/MLmodel", admin);
        Assert.Equal((200, Sha256Of(MlModel)), (served.Status, Sha256Of(served.Bytes)));

        // The files are in use, not orphans: an orphan sweep would take them from under the version.
        var orphans = (await Get($"/api/v1/workspaces/{ws}/admin/artifacts/orphans", key: admin)).Body!["orphans"]!.AsArray();
        Assert.Empty(orphans);

        // The reviewer of a protected move sees the bytes the approvals bind to.
        Assert.Equal(200, (await Send(HttpMethod.Put, $"/api/v1/workspaces/{ws}/settings/policy",
            new { approvals = new { protectedStages = new[] { "Production" }, requiredApprovals = 1 } }, workspaces: ws)).Status);
        Assert.Equal(409, (await Mlflow(ws, HttpMethod.Post, "model-versions/transition-stage",
            new { name = "churn", version = "1", stage = "Production", archive_existing_versions = false }, bearer)).Status);
        var request = Assert.Single((await Get($"/api/v1/workspaces/{ws}/models/churn/requests", key: admin)).Body!["items"]!.AsArray())!;
        Assert.True(request["artifactVerified"]!.GetValue<bool>());
        Assert.Equal(verified["sha256"]!.GetValue<string>(), request["sha256"]!.GetValue<string>());
    }

    /// <summary>The stored blob is damaged on disk (same length, other bytes): the download fails in MLflow's words, never serving them.</summary>
    /// <summary>A proxy upload is limited as an upload (the uploads bucket, the concurrent uploads per caller), not as a command.</summary>
    [Fact]
    public void a_proxy_upload_counts_as_an_upload_for_the_rate_limits()
    {
        static RequestKind Kind(string method, string path) =>
            RateLimits.KindOf(new Microsoft.AspNetCore.Http.DefaultHttpContext { Request = { Method = method, Path = path } }.Request);
        Assert.Equal(RequestKind.Upload, Kind("PUT", "/api/2.0/mlflow-artifacts/artifacts/churn/1/model/MLmodel"));
        Assert.Equal(RequestKind.Read, Kind("GET", "/api/2.0/mlflow-artifacts/artifacts/churn/1/model/MLmodel"));
        Assert.Equal(RequestKind.Command, Kind("PUT", "/api/v1/models/churn/aliases/champion"));
    }

    [Fact]
    public async Task a_damaged_file_fails_its_download_loudly()
    {
        var ws = await CreateWorkspace();
        var admin = await KeyIn(ws, "admin");
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/data/weights.bin", admin, Weights)).Status);
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Get, "/churn/1/model/data/weights.bin", admin)).Status);

        Assert.True(WorkspaceId.TryParse(ws, out var workspace));
        var stored = Path.Combine(Host.Services.GetRequiredService<ArtifactSettings>().Directory!, ArtifactDigest.StorageName(workspace, Sha256Of(Weights)));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stored, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(stored, Weights.Reverse().ToArray());

        var damaged = await Artifacts(ws, HttpMethod.Get, "/churn/1/model/data/weights.bin", admin);
        Assert.Equal((500, "INTERNAL_ERROR"), (damaged.Status, damaged.Code));
        Assert.Contains(Sha256Of(Weights), damaged.Json!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_hostile_path_is_invalid_and_touches_nothing()
    {
        var ws = await CreateWorkspace();
        var admin = await KeyIn(ws, "admin");
        var before = await EventsIn(ws);
        // As decoded by the server: %2e%2e is "..", %252e is "%2e", and %2F stays encoded (Kestrel does not decode it).
        string[] hostile =
        [
            "/churn/../../etc/passwd", "/churn/..%2F..%2Fetc%2Fpasswd", "/%2Fetc%2Fpasswd", "//etc/passwd", "/churn/%2e%2e/x", "/churn/./x",
            "/churn/a\0b", "/churn/a\\..\\b", "/" + string.Join('/', Enumerable.Repeat("churn", 200)), "/churn/" + new string('a', 300),
            "/../../x", "/C:\\Windows", "/churn/1/", "/",
        ];
        foreach (var path in hostile)
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Get })
        {
            var answer = await Raw(ws, method, path, admin, method == HttpMethod.Put ? Weights : null);
            Assert.True(answer is { Status: 400, Code: "INVALID_PARAMETER_VALUE" }, $"{method} {path}: {answer.Status} {answer.Text}");
        }
        foreach (var path in new[] { "../x", "/etc", "churn/../../x", "churn/%00" })
        {
            var answer = await Artifacts(ws, HttpMethod.Get, "?path=" + Uri.EscapeDataString(path), admin);
            Assert.True(answer is { Status: 400, Code: "INVALID_PARAMETER_VALUE" }, $"list {path}: {answer.Status} {answer.Text}");
        }
        Assert.Equal(0, await FilesIn(ws));
        Assert.Equal(before, await EventsIn(ws));
        Assert.True(WorkspaceId.TryParse(ws, out var workspace));
        Assert.Empty(await Host.Services.GetRequiredService<ArtifactStores>().For(workspace).ListAsync().ToListAsync());
    }

    /// <summary>
    /// Files belong to their model by id: after churn is renamed and a new model takes the name, a key scoped to the new
    /// churn neither lists nor downloads the old churn's files, a key scoped to the old one still reads them, and the new
    /// churn cannot bind them to a version of its own. (Authorized by the path's name, the new model's reader got them.)
    /// </summary>
    [Fact]
    public async Task a_renamed_models_files_stay_its_own_when_a_new_model_takes_the_name()
    {
        var ws = await CreateWorkspace();
        var admin = await KeyIn(ws, "admin");
        var bearer = Credential.Bearer(admin);
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", admin, MlModel)).Status);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "churn" }, bearer)).Status);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = "mlflow-artifacts:/churn/1/model" }, bearer)).Status);
        var oldReader = await KeyFor(ws, "reader", "churn");
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/rename", new { name = "churn", new_name = "churn-old" }, bearer)).Status);
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "churn" }, bearer)).Status);
        var newReader = await KeyFor(ws, "reader", "churn");

        var download = await Artifacts(ws, HttpMethod.Get, "/churn/1/model/MLmodel", newReader);
        Assert.Equal((404, "RESOURCE_DOES_NOT_EXIST"), (download.Status, download.Code));
        Assert.Equal("{}", (await Artifacts(ws, HttpMethod.Get, "?path=churn/1/model", newReader)).Text);
        var own = await Artifacts(ws, HttpMethod.Get, "/churn/1/model/MLmodel", oldReader);
        Assert.Equal((200, Sha256Of(MlModel)), (own.Status, Sha256Of(own.Bytes)));

        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = "mlflow-artifacts:/churn/1/model" }, bearer)).Status);
        var reference = (await Get($"/api/v1/workspaces/{ws}/models/churn/versions/1", key: admin)).Body!["artifact"]!;
        Assert.False(reference["verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task a_reader_cannot_upload_and_a_caller_scoped_to_another_model_or_workspace_sees_nothing()
    {
        var ws = await CreateWorkspace();
        var admin = await KeyIn(ws, "admin");
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", admin, MlModel)).Status);
        var bearer = Credential.Bearer(admin);
        foreach (var name in new[] { "churn", "fraud" })
            Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name }, bearer)).Status);

        // A reader reads, and may not write.
        var reader = await KeyIn(ws, "reader");
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Get, "/churn/1/model/MLmodel", reader)).Status);
        var denied = await Artifacts(ws, HttpMethod.Put, "/churn/1/model/other.txt", reader, Weights);
        Assert.Equal((403, "PERMISSION_DENIED"), (denied.Status, denied.Code));

        // A contributor of fraud writes fraud's files; churn's answer exactly as files that are not there.
        var fraud = await KeyFor(ws, "contributor", "fraud");
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Put, "/fraud/1/model/MLmodel", fraud, MlModel)).Status);
        Assert.Equal(200, (await Artifacts(ws, HttpMethod.Get, "/fraud/1/model/MLmodel", fraud)).Status);
        var absent = await Artifacts(ws, HttpMethod.Get, "/churn/9/model/MLmodel", admin);
        Assert.Equal((404, "RESOURCE_DOES_NOT_EXIST"), (absent.Status, absent.Code));
        var hidden = await Artifacts(ws, HttpMethod.Get, "/churn/1/model/MLmodel", fraud);
        Assert.Equal(absent.Text.Replace("churn/9/", "churn/1/"), hidden.Text);
        Assert.Equal(absent.Status, hidden.Status);
        var hiddenWrite = await Artifacts(ws, HttpMethod.Put, "/churn/1/model/MLmodel", fraud, MlModel);
        Assert.Equal(hidden.Text, hiddenWrite.Text);
        Assert.Equal("{}", (await Artifacts(ws, HttpMethod.Get, "?path=churn/1/model", fraud)).Text);
        Assert.Equal("{}", (await Artifacts(ws, HttpMethod.Get, "?path=churn/9/model", admin)).Text);

        // Another workspace's admin: exactly an unknown route's answer, whatever the path holds.
        var other = await CreateWorkspace();
        var stranger = await KeyIn(other, "admin");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/workspaces/{ws}/api/2.0/mlflow/no-such-route");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", stranger);
        using var client = Host.Server.CreateClient();
        using var response = await client.SendAsync(request);
        var unknown = new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", await response.Content.ReadAsByteArrayAsync());
        foreach (var (method, rest) in new[] { (HttpMethod.Get, "/churn/1/model/MLmodel"), (HttpMethod.Get, "?path=churn/1/model"), (HttpMethod.Put, "/churn/1/model/x") })
        {
            var answer = await Artifacts(ws, method, rest, stranger, method == HttpMethod.Put ? Weights : null);
            Assert.Equal((404, unknown.ContentType, unknown.Text), (answer.Status, answer.ContentType, answer.Text));
        }
        Assert.Equal(2, await FilesIn(ws));
        Assert.Equal(0, await FilesIn(other));
    }
}
