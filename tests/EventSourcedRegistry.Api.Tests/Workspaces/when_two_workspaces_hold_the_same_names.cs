using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20, the isolation matrix: two workspaces hold the same model names, versions, aliases and artifact bytes.
/// Every route of the API, with every role of one workspace, is called against the other: each answer is exactly the
/// answer of a route that does not exist. And every read of one workspace answers byte for byte the same before and
/// after the other fills up with the same names, so no answer, error text, status, sequence or count tells of it.
/// Routes are enumerated from the running app: a new route without a case here fails the test.
/// </summary>
public sealed class when_two_workspaces_hold_the_same_names(AppFixture app) : WorkspaceTest(app)
{
    private static readonly string[] RoleNames = ["reader", "contributor", "approver", "auditor", "admin"];
    private static readonly byte[] Bytes = "the same model bytes in both workspaces"u8.ToArray();

    /// <summary>Routes that belong to no workspace (the platform's and the probes), and so have no place in the matrix.</summary>
    private static bool OutsideWorkspaces(string template) =>
        template.StartsWith("/api/v1/workspaces", StringComparison.Ordinal) || template.StartsWith("/api/v1/platform", StringComparison.Ordinal) ||
        template.StartsWith("/health", StringComparison.Ordinal) || template.StartsWith("/openapi", StringComparison.Ordinal) ||
        // The console's pages take no API key (a key is exchanged for a session cookie at sign-in); their workspace
        // boundary is tested in a browser (ConsoleTests' when_workspaces_hold_the_same_names).
        template.StartsWith("/console", StringComparison.Ordinal);

    private sealed record Route(string Method, string Template);

    private IReadOnlyList<Route> Routes() => Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            .Select(m => new Route(m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
        .Where(r => !OutsideWorkspaces(r.Template))
        .Distinct().OrderBy(r => r.Template, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();

    private sealed record Workspace(string Slug, string Admin, Dictionary<string, string> Roles, string Sha256, string KeyId);

    private async Task<string> Key(string path, object body, string by)
    {
        var made = await Post(path, body, key: by);
        Assert.True(made.Status == 201, $"{path}: {made.Status} {made.Body}");
        return made.Body!["key"]!.GetValue<string>();
    }

    private async Task<RegistryCalls.Response> Upload(string slug, string key)
    {
        using var client = Host.ClientWithKey(key);
        using var content = new ByteArrayContent(Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await RegistryCalls.Read(await client.PostAsync($"/api/v1/workspaces/{slug}/artifacts", content));
    }

    /// <summary>A workspace with keys for every role, holding churn v1 (Production, champion, deployed) and v2 from the same bytes.</summary>
    private async Task<Workspace> Fill(string slug, int scale)
    {
        var admin = await Key("/api/v1/platform/keys", new { name = $"admin-{slug}", owner = $"admin@{slug}", grants = new[] { new { role = "admin", workspace = slug } } },
            AppFixture.AdminKey);
        var roles = new Dictionary<string, string>();
        foreach (var role in RoleNames)
            roles[role] = await Key($"/api/v1/workspaces/{slug}/admin/keys", new { name = role, owner = $"{role}@{slug}", grants = new[] { new { role } } }, admin);
        var keyId = (await Get($"/api/v1/workspaces/{slug}/admin/keys", key: admin)).Body!["items"]!.AsArray()[0]!["id"]!.GetValue<string>();

        var uploaded = await Upload(slug, admin);
        Assert.True(uploaded.Status is 200 or 201, $"{uploaded.Status} {uploaded.Body}");
        var sha256 = uploaded.Body!["sha256"]!.GetValue<string>();
        for (var round = 0; round < scale; round++)
        {
            var name = round == 0 ? "churn" : $"churn-{round}";
            Assert.Equal(201, (await Post($"/api/v1/workspaces/{slug}/models", new { name, tags = new { team = "growth" } }, key: admin)).Status);
            foreach (var _ in new[] { 1, 2 })
                Assert.Equal(201, (await Post($"/api/v1/workspaces/{slug}/models/{name}/versions", new { artifact = new { sha256 }, metrics = new { auc = 0.9 } }, key: admin)).Status);
            Assert.Equal(200, (await Post($"/api/v1/workspaces/{slug}/models/{name}/versions/1/stage", new { stage = "Production" }, key: admin)).Status);
            Assert.Equal(200, (await Send(HttpMethod.Put, $"/api/v1/workspaces/{slug}/models/{name}/aliases/champion", new { version = 1 }, key: admin)).Status);
            var deployed = await Post($"/api/v1/workspaces/{slug}/models/{name}/deployments", new { version = 1, environment = "prod-eu", action = "deployed" }, key: admin);
            Assert.True(deployed.Status is 200 or 201, $"{deployed.Status} {deployed.Body}");
        }
        return new Workspace(slug, admin, roles, sha256, keyId);
    }

    /// <summary>The route's path for <paramref name="target"/>'s names, through <paramref name="prefix"/> (a workspace's) or unprefixed (default).</summary>
    private static string Path(Route route, Workspace target, string? prefix) =>
        // MLflow's routes sit under the prefix whole (the prefix is the tracking URI); /api/v1 routes lose their /api/v1.
        (prefix is null ? route.Template
            : route.Template.StartsWith("/api/v1/", StringComparison.Ordinal) ? prefix + route.Template["/api/v1".Length..] : prefix + route.Template)
            .Replace("{*path}", "churn/1/model/MLmodel").Replace("{name}", "churn").Replace("{version}", "1").Replace("{alias}", "champion")
            .Replace("{sha256}", target.Sha256).Replace("{digest}", target.Sha256)
            .Replace("{id}", route.Template.Contains("/keys/") ? target.KeyId : Guid.Empty.ToString());

    private static object? BodyFor(Route route) => route.Method is "POST" or "PUT" or "PATCH" ? new { } : null;

    [Fact]
    public async Task no_role_of_one_workspace_reaches_any_route_of_the_other_and_each_answer_is_an_unknown_routes()
    {
        var a = await Fill(await CreateWorkspace(), scale: 1);
        var b = await Fill(await CreateWorkspace(), scale: 1);
        var unknown = Fingerprint(await Get($"/api/v1/workspaces/{b.Slug}/no-such-route", key: a.Admin));
        Assert.StartsWith("404\n", unknown);
        // MLflow's routes answer as MLflow's unknown route (its server's HTML 404, from which its client derives ENDPOINT_NOT_FOUND).
        var unknownMlflow = Fingerprint(await Get($"/api/v1/workspaces/{b.Slug}/api/2.0/mlflow/no-such-route", key: a.Admin));
        Assert.StartsWith("404\n", unknownMlflow);

        var routes = Routes();
        Assert.True(routes.Count > 40, $"only {routes.Count} routes found");
        // The paths are right: the other workspace's own admin reaches most of its reads through them.
        var reachable = 0;
        foreach (var route in routes.Where(r => r.Method == "GET"))
            if ((await Send(HttpMethod.Get, Path(route, b, $"/api/v1/workspaces/{b.Slug}"), key: b.Admin)).Status == 200) reachable++;
        Assert.True(reachable > 15, $"only {reachable} reads answered 200 for the workspace's own admin");

        var leaks = new List<string>();
        foreach (var route in routes)
        foreach (var (role, key) in a.Roles.Append(new("admin (platform key)", a.Admin)))
        foreach (var prefix in new[] { $"/api/v1/workspaces/{b.Slug}", "" })
        {
            var path = Path(route, b, prefix == "" ? null : prefix);
            var answer = await Send(new HttpMethod(route.Method), path, BodyFor(route), key: key);
            if (Fingerprint(answer) != (route.Template.StartsWith("/api/2.0/mlflow", StringComparison.Ordinal) ? unknownMlflow : unknown)) leaks.Add($"{role} {route.Method} {path}: {Fingerprint(answer)}");
        }
        Assert.True(leaks.Count == 0, $"{leaks.Count} answers differ from an unknown route's:\n{string.Join("\n\n", leaks.Take(20))}");
    }

    [Fact]
    public async Task every_read_of_one_workspace_answers_the_same_after_the_other_fills_up_with_the_same_names()
    {
        var a = await Fill(await CreateWorkspace(), scale: 1);
        var reads = Routes().Where(r => r.Method is "GET" or "HEAD").ToList();
        async Task<Dictionary<string, string>> Answers()
        {
            var answers = new Dictionary<string, string>();
            foreach (var route in reads)
            foreach (var (role, key) in new[] { ("admin", a.Admin), ("reader", a.Roles["reader"]), ("auditor", a.Roles["auditor"]) })
            {
                var path = Path(route, a, $"/api/v1/workspaces/{a.Slug}");
                answers[$"{role} {route.Method} {path}"] = Stable(await Send(new HttpMethod(route.Method), path, key: key));
            }
            return answers;
        }

        // A settled baseline: the workspace's high-water mark follows its appends by a poll, so read until two reads agree.
        var before = await Answers();
        for (var attempt = 0; attempt < 40; attempt++)
        {
            await Task.Delay(250);
            var again = await Answers();
            if (again.All(x => before[x.Key] == x.Value)) break;
            before = again;
        }
        var b = await Fill(await CreateWorkspace(), scale: 3);
        // And the same settling for the other workspace's appends: whatever of them could show here has had time to.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = await Answers();

        Assert.True(before.Values.Count(v => v.StartsWith("200", StringComparison.Ordinal)) > 10,
            "too few reads answered 200 to prove anything:\n" + string.Join("\n", before.Select(x => $"{x.Key}: {x.Value.Split('\n')[0]}")));
        var changed = before.Where(x => after[x.Key] != x.Value).Select(x => $"{x.Key}\n before: {x.Value}\n after:  {after[x.Key]}").ToList();
        Assert.True(changed.Count == 0, $"{changed.Count} reads of {a.Slug} changed when {b.Slug} filled up:\n{string.Join("\n\n", changed.Take(10))}");
    }

    /// <summary>The fingerprint without what differs from one moment to the next whatever the other workspace does.</summary>
    private static string Stable(RegistryCalls.Response response)
    {
        var text = Fingerprint(response);
        foreach (var volatileHeader in new[] { "Retry-After" })
            text = System.Text.RegularExpressions.Regex.Replace(text, $"(?m)^{volatileHeader}: .*$", $"{volatileHeader}: *");
        return text;
    }
}
