using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// The pure mapping of a token's claims to the registry's caller (<see cref="TokenPrincipals"/>): the API's bearer tokens
/// and the console's OpenID Connect sessions both go through it, and what a session keeps of its access token
/// (<see cref="ConsoleOidc.Kept"/>) rebuilds the same caller.
/// </summary>
public sealed class when_mapping_a_tokens_claims
{
    private static readonly TokenPrincipals Tokens = new("roles", "sub");
    private static readonly WorkspaceId TeamA = WorkspaceId.Parse("team-a");

    private static ClaimsPrincipal Build(WorkspaceId workspace, params (string Type, string Value)[] claims)
    {
        var (principal, failure) = Tokens.Build(claims.Select(c => new Claim(c.Type, c.Value)), "Bearer", ClaimTypes.Name, ClaimTypes.Role, workspace);
        Assert.True(principal is not null, failure);
        return principal;
    }

    [Fact]
    public void roles_become_grants_only_in_their_workspace_and_memberships_everywhere_they_name()
    {
        var claims = new[] { ("sub", "alice"), ("roles", "reader"), ("roles", "team-a/approver"), ("roles", "[\"team-a/contributor:churn\"]") };

        var inDefault = Build(WorkspaceId.Default, claims);
        Assert.Equal("jwt:alice", AccessClaims.ActorOf(inDefault));
        Assert.Equal(["reader"], inDefault.FindAll(AccessClaims.Grant).Select(c => c.Value));
        Assert.Equal(["default", "team-a"], inDefault.FindAll(AccessClaims.Workspace).Select(c => c.Value).Order());

        var inTeamA = Build(TeamA, claims);
        Assert.Equal(["approver", "contributor:churn"], inTeamA.FindAll(AccessClaims.Grant).Select(c => c.Value).Order());
        Assert.False(AccessClaims.IsPlatformAdmin(inTeamA));
    }

    [Fact]
    public void the_tokens_own_server_claims_are_dropped_and_a_token_without_a_subject_names_no_caller()
    {
        var principal = Build(WorkspaceId.Default, ("sub", "mallory"), ("esr:actor", "key:admin"), ("ESR:grant", "admin"), ("roles", "nonsense-role"));
        Assert.Equal(["jwt:mallory"], principal.FindAll(AccessClaims.Actor).Select(c => c.Value));
        Assert.Empty(principal.FindAll(AccessClaims.Grant));
        // No role at all: default's, refused by the role checks there, not a stranger to the registry.
        Assert.Equal(["default"], principal.FindAll(AccessClaims.Workspace).Select(c => c.Value));

        var (none, failure) = Tokens.Build([new Claim("roles", "admin")], "Bearer", ClaimTypes.Name, ClaimTypes.Role, WorkspaceId.Default);
        Assert.Null(none);
        Assert.Contains("'sub'", failure);
    }

    [Fact]
    public void what_a_console_session_keeps_of_an_access_token_rebuilds_the_same_caller_without_the_servers_claims()
    {
        var caller = Build(TeamA, ("sub", "alice"), ("roles", "team-a/reader"), ("exp", "1893456000"));
        var (kept, expires) = ConsoleOidc.Kept(caller);

        Assert.Equal(DateTimeOffset.Parse("2030-01-01T00:00:00Z"), expires);
        var pairs = JsonSerializer.Deserialize<string[][]>(kept)!;
        Assert.DoesNotContain(pairs, p => AccessClaims.IsServerClaim(p[0]));
        var rebuilt = Build(TeamA, pairs.Select(p => (p[0], p[1])).ToArray());
        Assert.Equal(caller.Claims.Select(c => (c.Type, c.Value)).Order(), rebuilt.Claims.Select(c => (c.Type, c.Value)).Order());
    }

    [Fact]
    public void the_console_offers_openid_connect_only_with_a_client_id_at_the_apis_own_authority()
    {
        ConsoleOidcSettings SettingsOf(params (string, string)[] settings)
        {
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
            foreach (var (name, value) in settings) builder.Configuration[name] = value;
            ConsoleOidc.Add(builder);
            return builder.Build().Services.GetRequiredService<ConsoleOidcSettings>();
        }

        Assert.False(SettingsOf(("Registry:Auth:Jwt:Authority", "https://login.example.com/tenant")).Enabled);
        Assert.Equal(new ConsoleOidcSettings(true, "login.example.com:8443"),
            SettingsOf(("Registry:Auth:Jwt:Authority", "https://login.example.com:8443/tenant"), ("Registry:Console:Oidc:ClientId", "console")));
        var refused = Assert.Throws<InvalidOperationException>(() => SettingsOf(("Registry:Console:Oidc:ClientId", "console")));
        Assert.Contains("Registry:Auth:Jwt:Authority", refused.Message);
    }
}
