using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// Issue 13, item 6. On main a signed token's own <c>esr:actor</c> beat the server's (events recorded whatever actor
/// the token named) and <c>esr:grant: admin</c> granted admin. The server's <c>esr:</c> claims are now stripped from
/// every token before the server adds its own. And with JWT on, an audience is required.
/// </summary>
public sealed class when_a_token_carries_server_claims(AppFixture app) : ApiTest(app)
{
    private HttpClient Client(string subject, string[] roles, params (string, string)[] claims) =>
        Host.ClientWithToken(Support.Access.Token(subject, roles, extraClaims: claims));

    [Fact]
    public async Task a_token_supplied_actor_is_ignored_and_events_record_the_tokens_subject()
    {
        using var client = Client("mallory", ["contributor"], ("esr:actor", AppFixture.AdminActor), ("ESR:Actor", "key:someone"));

        Assert.Equal(201, (await client.Send(HttpMethod.Post, "/api/v1/models", new { name = "churn" })).Status);

        Assert.Equal("jwt:mallory", Assert.Single(await Store.EventsOf("churn")).UserName);
    }

    [Fact]
    public async Task a_token_supplied_grant_grants_nothing()
    {
        await Host.RegisterModel("churn");
        var modelId = await Store.ModelId("churn");
        using var granted = Client("mallory", [], ("esr:grant", "admin"), ("esr:model-grant", $"contributor:{modelId}"));
        using var reader = Client("mallory", ["reader"], ("esr:grant", "admin"), ("esr:grant", "contributor"));

        (await granted.Send(HttpMethod.Get, "/api/v1/admin/keys")).AssertProblem(403);
        (await granted.Send(HttpMethod.Patch, "/api/v1/models/churn", new { description = "d" })).AssertProblem(404);
        (await reader.Send(HttpMethod.Get, "/api/v1/admin/keys")).AssertProblem(403);
        (await reader.Send(HttpMethod.Post, "/api/v1/models", new { name = "fraud" })).AssertProblem(403);
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_token_supplied_owner_or_key_is_ignored_by_four_eyes()
    {
        var host = await App.GovernedHost();
        await host.RegisterModel("credit-risk");
        await host.RegisterVersion("credit-risk");
        var requested = await host.ClientWithToken(Support.Access.Token("mallory", ["contributor"]))
            .Send(HttpMethod.Post, "/api/v1/models/credit-risk/versions/1/stage", new { stage = "Production" });
        Assert.Equal(202, requested.Status);

        // The same subject claims to be somebody else's key, of another owner: still mallory.
        using var disguised = host.ClientWithToken(Support.Access.Token("mallory", ["approver"],
            extraClaims: [("esr:owner", "bob"), ("esr:key-id", "0123456789abcdef"), ("esr:actor", "key:bob")]));
        var own = await disguised.Send(HttpMethod.Post, $"/api/v1/models/credit-risk/requests/{requested.Body!["id"]}/approve", new { });

        Assert.Contains("cannot approve", own.AssertProblem(409)["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Authority", "https://login.example.test/tenant")]
    [InlineData("SigningKey", "another-signing-key-of-at-least-32-bytes-0123")]
    public void with_tokens_on_and_no_audience_the_configuration_is_refused(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"{AccessConfiguration.JwtSection}:{setting}"] = value }).Build();

        var refused = Assert.Throws<InvalidOperationException>(() => AccessConfiguration.CheckJwt(configuration.GetSection(AccessConfiguration.JwtSection)));

        Assert.Contains("Audience is required", refused.Message);
    }

    [Theory]
    [InlineData("RoleClaim", "esr:grant")]
    [InlineData("NameClaim", "ESR:actor")]
    public void a_role_or_name_claim_in_the_server_namespace_is_refused(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{AccessConfiguration.JwtSection}:SigningKey"] = AppFixture.JwtSigningKey,
            [$"{AccessConfiguration.JwtSection}:Audience"] = AppFixture.JwtAudience,
            [$"{AccessConfiguration.JwtSection}:{setting}"] = value,
        }).Build();

        var refused = Assert.Throws<InvalidOperationException>(() => AccessConfiguration.CheckJwt(configuration.GetSection(AccessConfiguration.JwtSection)));

        Assert.Contains("esr:", refused.Message);
    }

    [Fact]
    public async Task the_api_does_not_start_with_an_authority_and_no_audience()
    {
        var started = await Assert.ThrowsAsync<InvalidOperationException>(() => ApiProcess.Start(new Dictionary<string, string?>
        {
            ["Registry__Auth__Jwt__Authority"] = "https://login.example.test/tenant",
            ["Registry__Auth__Jwt__Audience"] = null,
        }, TimeSpan.FromSeconds(10)));

        Assert.Contains("Registry:Auth:Jwt:Audience is required", started.Message);
    }
}
