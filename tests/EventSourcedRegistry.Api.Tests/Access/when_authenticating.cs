using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Access;

public sealed class when_authenticating(AppFixture app) : ApiTest(app)
{
    /// <summary>Every route the app maps, with its route parameters filled in, and the method it answers.</summary>
    private IEnumerable<(string Method, string Path)> AllRoutes() =>
        Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + string.Join("/", e.RoutePattern.PathSegments.Select(s =>
                    string.Concat(s.Parts.Select(p => p switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "documentName" } => "v1",
                    _ => "churn",
                })))))));

    [Fact]
    public async Task without_credentials_every_call_but_health_and_the_openapi_document_is_401()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        using var anonymous = Host.AnonymousClient();
        var routes = AllRoutes().ToList();
        Assert.True(routes.Count > 30, $"only {routes.Count} routes found");

        foreach (var (method, path) in routes)
        {
            var response = await anonymous.Send(new HttpMethod(method), path, method is "POST" or "PUT" or "PATCH" ? new { } : null);
            if (path.StartsWith("/health/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal)
                || path.StartsWith(EventSourcedRegistry.Api.Infrastructure.OpenApiDescription.ReferencePath, StringComparison.Ordinal))
            {
                // The reference page answers its bare path with a redirect to the page under it, and 404 for an unknown asset.
                Assert.True(response.Status is 200 or 302 or 404 && !path.StartsWith("/api/v1", StringComparison.Ordinal), $"{method} {path}: {response.Status}");
                continue;
            }
            if (path.StartsWith("/console", StringComparison.Ordinal))
            {
                // The console is for browsers: its sign-in form and stylesheet are open, a post without the form's
                // antiforgery token is refused, and every other page sends the browser to the sign-in form.
                var expected = path is "/console/signin" or "/console/assets/console.css" && method == "GET" ? 200
                    : method == "POST" ? 400 : 302;
                Assert.True(response.Status == expected, $"{method} {path}: {response.Status}, expected {expected}");
                if (expected == 302) Assert.StartsWith("/console/signin", response.Raw.Headers.Location!.PathAndQuery);
                continue;
            }
            Assert.True(response.Status == 401, $"{method} {path}: {response.Status} {response.Body}");
            if (path.StartsWith("/api/2.0/mlflow", StringComparison.Ordinal))
            {
                // MLflow's protocol (its artifact proxy included) refuses in its own shape, and says how its client sends a key.
                Assert.Equal("UNAUTHENTICATED", response.Body?["error_code"]?.GetValue<string>());
                Assert.Contains("MLFLOW_TRACKING_TOKEN", response.Body!["message"]!.GetValue<string>());
            }
            else if (method != "HEAD")
            {
                var problem = response.AssertProblem(401);
                Assert.Contains("Authorization: ApiKey", problem["detail"]!.GetValue<string>());
            }
            Assert.Contains("ApiKey", response.Raw.Headers.WwwAuthenticate.ToString());
        }
        // An unknown path does not tell an anonymous caller whether it exists either.
        Assert.Equal(401, (await anonymous.Send(HttpMethod.Get, "/api/v1/nothing-here")).Status);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_key_authenticates_in_the_authorization_header_or_in_x_api_key()
    {
        var key = await Host.CreateKey("reader");
        using var bearerStyle = Host.ClientWithKey(key.Key);
        Assert.Equal(200, (await bearerStyle.Send(HttpMethod.Get, "/api/v1/models")).Status);

        using var headerStyle = Host.AnonymousClient();
        headerStyle.DefaultRequestHeaders.Add("X-Api-Key", key.Key);
        Assert.Equal(200, (await headerStyle.Send(HttpMethod.Get, "/api/v1/models")).Status);
    }

    [Fact]
    public async Task a_wrong_secret_an_unknown_id_or_garbage_is_401()
    {
        var key = await Host.CreateKey("reader");
        var wrongSecret = key.Key[..^4] + (key.Key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        foreach (var presented in new[] { wrongSecret, $"esr_0123456789abcdef_{key.Key.Split('_', 3)[2]}", "not-a-key", "esr__" })
        {
            using var client = Host.ClientWithKey(presented);
            var response = await client.Send(HttpMethod.Get, "/api/v1/models");
            var problem = response.AssertProblem(401);
            Assert.Contains("not valid", problem["detail"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task a_revoked_key_is_401_at_once()
    {
        var key = await Host.CreateKey("contributor");
        using var client = Host.ClientWithKey(key.Key);
        Assert.Equal(201, (await client.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);

        var revoked = await Host.Delete($"/api/v1/admin/keys/{key.Id}").Ok();
        Assert.NotNull(revoked.Body!["revokedAt"]);
        Assert.Equal(AppFixture.AdminActor, revoked.Body["revokedBy"]!.GetValue<string>());

        (await client.Send(HttpMethod.Get, "/api/v1/models/churn")).AssertProblem(401);
        (await client.Send(HttpMethod.Post, "/api/v1/models", new { name = "fraud" })).AssertProblem(401);
        Assert.Equal(404, (await Host.Get("/api/v1/models/fraud")).Status);
        // Revoking again answers the key as it is; an unknown id is 404.
        Assert.Equal(revoked.Body["revokedAt"]!.ToString(), (await Host.Delete($"/api/v1/admin/keys/{key.Id}").Ok()).Body!["revokedAt"]!.ToString());
        (await Host.Delete("/api/v1/admin/keys/0000000000000000")).AssertProblem(404);
    }

    [Fact]
    public async Task the_key_is_shown_once_and_its_secret_is_stored_only_as_a_sha256()
    {
        var created = await Host.Post("/api/v1/admin/keys", new { name = "ci-pipeline", owner = "ci-team", grants = new[] { new { role = "contributor" } } }).Ok(201);
        var key = created.Body!["key"]!.GetValue<string>();
        var id = created.Body["id"]!.GetValue<string>();
        Assert.StartsWith($"esr_{id}_", key);
        var secret = key[$"esr_{id}_".Length..];
        Assert.True(secret.Length >= 43, "256 random bits");
        Assert.Equal($"/api/v1/admin/keys/{id}", created.Header("Location"));

        var listed = await Host.Get("/api/v1/admin/keys").Ok();
        var item = listed.Body!["items"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("ci-pipeline", item["name"]!.GetValue<string>());
        Assert.Null(item["key"]);
        Assert.DoesNotContain(secret, listed.Body.ToJsonString());

        var rows = await App.SqlList<string>("select row_to_json(k)::text from registry.api_keys k where id = $1", id);
        var row = Assert.Single(rows);
        Assert.DoesNotContain(secret, row);
        var stored = await App.SqlList<byte[]>("select secret_sha256 from registry.api_keys where id = $1", id);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), Assert.Single(stored));
        var bootstrap = await App.SqlList<string>("select row_to_json(k)::text from registry.api_keys k where name = 'bootstrap-admin'");
        Assert.DoesNotContain(AppFixture.AdminKey.Split('_', 3)[2], Assert.Single(bootstrap));
    }

    [Fact]
    public async Task the_actor_of_every_event_in_history_and_audit_is_the_keys_principal()
    {
        var pipeline = await Host.CreateKey("contributor");
        using var client = Host.ClientWithKey(pipeline.Key);
        Assert.Equal(201, (await client.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);
        await Host.RegisterVersion("churn");
        Assert.Equal(200, (await client.Send(HttpMethod.Post, "/api/v1/models/churn/versions/1/stage", new { stage = "Staging" })).Status);

        var events = await Store.EventsOf("churn");
        Assert.Equal([pipeline.Actor, AppFixture.AdminActor, pipeline.Actor], events.Select(e => e.UserName));
        var history = await Host.Get("/api/v1/models/churn/history").Ok();
        Assert.Equal([pipeline.Actor, AppFixture.AdminActor, pipeline.Actor],
            history.Body!["items"]!.AsArray().Select(i => i!["actor"]!.GetValue<string>()));
        await Store.WaitForAuditTrail();
        var audit = await Host.Audit($"?actor={Uri.EscapeDataString(pipeline.Actor)}");
        Assert.Equal(2, audit.Items().Count);
    }

    [Fact]
    public async Task a_signed_bearer_token_authenticates_with_its_roles_and_its_subject_is_the_actor()
    {
        using var client = Host.ClientWithToken(Support.Access.Token("alice@example.com", ["contributor"]));
        Assert.Equal(201, (await client.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);
        Assert.Equal("jwt:alice@example.com", Assert.Single(await Store.EventsOf("churn")).UserName);
        (await client.Send(HttpMethod.Get, "/api/v1/admin/keys")).AssertProblem(403);
    }

    [Fact]
    public async Task an_expired_forged_or_foreign_token_is_401()
    {
        var tokens = new[]
        {
            Support.Access.Token("alice", ["admin"], lifetime: TimeSpan.FromMinutes(-5)),
            Support.Access.Token("alice", ["admin"], signingKey: "another-signing-key-of-at-least-32-bytes-9876543210"),
            Support.Access.Token("alice", ["admin"], audience: "some-other-api"),
        };
        foreach (var token in tokens)
        {
            using var client = Host.ClientWithToken(token);
            (await client.Send(HttpMethod.Get, "/api/v1/models")).AssertProblem(401);
        }
    }

    [Fact]
    public async Task a_validated_key_is_answered_from_memory_without_a_database_read()
    {
        var key = await Host.CreateKey("reader");
        using var client = Host.ClientWithKey(key.Key);
        Assert.Equal(200, (await client.Send(HttpMethod.Get, "/api/v1/registry")).Status);

        // Behind the registry's back (no revocation on this node): the cached key still authenticates, within its TTL.
        await App.Sql("delete from registry.api_keys where id = $1", key.Id);
        Assert.Equal(200, (await client.Send(HttpMethod.Get, "/api/v1/registry")).Status);
    }
}
