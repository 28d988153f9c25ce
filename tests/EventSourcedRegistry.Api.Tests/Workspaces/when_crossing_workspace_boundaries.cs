using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Every route of the API, through another workspace's prefix: a non-member learns nothing (the 404 of an unknown
/// route, whatever the method, route or slug), and a member of B asking for a name only A holds gets the answer of a
/// name nobody holds. The routes come from the host's endpoint table, so a route added later is covered too.
/// </summary>
public sealed class when_crossing_workspace_boundaries(AppFixture app) : WorkspaceTest(app)
{
    private const string OnlyInA = "fraud";
    private const string Nowhere = "ghost";

    /// <summary>Every route inside a workspace (the directory's, health and OpenAPI are outside), methods and pattern.</summary>
    private List<(string Method, string Pattern)> WorkspaceRoutes() =>
        Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/api/v1/", StringComparison.Ordinal) && !raw.StartsWith("/api/v1/workspaces", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern.RawText!)))
            .Distinct().OrderBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.m, StringComparer.Ordinal).ToList();

    private static string Fill(string pattern, string name) => pattern
        .Replace("{name}", name).Replace("{version}", "1").Replace("{alias}", "champion").Replace("{sha256}", RegistryCalls.Sha256A)
        .Replace("{id}", "0195a0c0-0000-7000-8000-000000000001");

    private async Task<(string A, string B)> TwoWorkspacesWithChurn()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        foreach (var ws in new[] { a, b })
        {
            Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models", new { name = "churn" }, workspaces: ws)).Status);
            Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models/churn/versions",
                new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } }, workspaces: ws)).Status);
        }
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{a}/models", new { name = OnlyInA }, workspaces: a)).Status);
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{a}/models/{OnlyInA}/versions",
            new { artifact = new { uri = "s3://m/fraud.onnx", sha256 = RegistryCalls.Sha256B, sizeBytes = 1 } }, workspaces: a)).Status);
        return (a, b);
    }

    [Fact]
    public async Task every_route_answers_a_non_member_like_an_unknown_route()
    {
        var (a, b) = await TwoWorkspacesWithChurn();
        var routes = WorkspaceRoutes();
        Assert.True(routes.Count > 30, $"only {routes.Count} routes found");
        var unknownRoute = Fingerprint(await Get("/api/v1/no-such-route", workspaces: b));
        var reader = (await Host.CreateKey("reader")).Key;

        var differing = new List<string>();
        foreach (var (method, pattern) in routes)
        foreach (var key in new[] { AppFixture.AdminKey, reader })
        {
            var path = $"/api/v1/workspaces/{a}{Fill(pattern, "churn")["/api/v1".Length..]}";
            var body = method is "GET" or "HEAD" or "DELETE" ? null : new { name = "x" };
            var response = await Send(new HttpMethod(method), path, body, workspaces: b, key: key);
            var fingerprint = method == "HEAD" ? $"{response.Status}" : Fingerprint(response);
            if (fingerprint != (method == "HEAD" ? "404" : unknownRoute)) differing.Add($"{method} {path}: {fingerprint}");
        }

        Assert.True(differing.Count == 0, $"answers that differ from an unknown route's ({unknownRoute}):\n{string.Join("\n\n", differing)}");
        Assert.False((await Get($"/api/v1/workspaces/{a}/models/churn", workspaces: a)).Body!["archived"]!.GetValue<bool>());
    }

    [Fact]
    public async Task a_name_only_another_workspace_holds_reads_as_a_name_nobody_holds()
    {
        var (_, b) = await TwoWorkspacesWithChurn();
        var reads = WorkspaceRoutes().Where(r => r.Method == "GET" && r.Pattern.Contains("{name}", StringComparison.Ordinal)).ToList();
        Assert.True(reads.Count >= 8, $"only {reads.Count} model reads found");

        var differing = new List<string>();
        foreach (var (_, pattern) in reads)
        {
            var held = await Get($"/api/v1/workspaces/{b}{Fill(pattern, OnlyInA)["/api/v1".Length..]}", workspaces: b);
            var nobody = await Get($"/api/v1/workspaces/{b}{Fill(pattern, Nowhere)["/api/v1".Length..]}", workspaces: b);
            if (Fingerprint(held) != Fingerprint(nobody).Replace(Nowhere, OnlyInA))
                differing.Add($"{pattern}:\n{Fingerprint(held)}\n--- a name nobody holds:\n{Fingerprint(nobody)}");
        }

        Assert.True(differing.Count == 0, string.Join("\n\n", differing));
    }

    [Fact]
    public async Task another_workspaces_artifact_is_not_found_in_this_one()
    {
        var (_, b) = await TwoWorkspacesWithChurn();

        var theirs = await Get($"/api/v1/workspaces/{b}/artifacts/{RegistryCalls.Sha256B}/verify", workspaces: b);
        var nobodys = await Get($"/api/v1/workspaces/{b}/artifacts/{new string('c', 64)}/verify", workspaces: b);

        Assert.Equal(Fingerprint(nobodys).Replace(new string('c', 64), RegistryCalls.Sha256B), Fingerprint(theirs));
    }
}
