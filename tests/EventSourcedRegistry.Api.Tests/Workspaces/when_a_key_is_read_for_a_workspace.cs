using System.Security.Claims;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Access.Keys;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20, keys and grants per workspace: a request's principal carries a membership claim per workspace the key may
/// address and the grants of the request's workspace only, so no policy can count a grant held elsewhere; what one
/// workspace's admin sees of a platform key is its grants there.
/// </summary>
public sealed class when_a_key_is_read_for_a_workspace
{
    private static readonly WorkspaceId TeamA = WorkspaceId.Parse("team-a");
    private static readonly WorkspaceId TeamB = WorkspaceId.Parse("team-b");
    private static readonly Guid Churn = Guid.Parse("0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850");

    private static ApiKeyRecord Key(string workspace, params Grant[] grants) =>
        new("0011223344556677", "ci", "someone", [], new byte[32], grants, "key:admin", DateTimeOffset.UnixEpoch, null, null, workspace);

    private static string[] GrantsOf(ClaimsPrincipal user) =>
        user.FindAll(AccessClaims.Grant).Concat(user.FindAll(AccessClaims.ModelGrant)).Select(c => c.Value).Order().ToArray();

    private static string[] MembershipsOf(ClaimsPrincipal user) => user.FindAll(AccessClaims.Workspace).Select(c => c.Value).Order().ToArray();

    [Fact]
    public void a_workspace_key_is_a_member_of_its_workspace_only_and_holds_nothing_elsewhere()
    {
        var key = Key("team-a", new Grant(Roles.Admin), new Grant(Roles.Contributor, Churn, "churn"));

        var inA = ApiKeys.PrincipalOf(key, "ApiKey", TeamA);
        Assert.Equal(["team-a"], MembershipsOf(inA));
        Assert.Equal(["admin", $"contributor:{Churn}"], GrantsOf(inA));

        var inB = ApiKeys.PrincipalOf(key, "ApiKey", TeamB);
        Assert.Equal(["team-a"], MembershipsOf(inB));
        Assert.Empty(GrantsOf(inB));
        Assert.False(AccessClaims.IsMemberOf(inB, TeamB));
        Assert.False(AccessClaims.IsPlatformAdmin(inA));
    }

    [Fact]
    public void a_platform_key_holds_in_each_workspace_only_the_grants_named_there_and_is_a_member_of_no_other()
    {
        var key = Key(WorkspaceId.Platform.Slug, new Grant(Roles.Auditor, Workspace: "team-a"), new Grant(Roles.Reader, Workspace: "team-b"));

        Assert.Equal(["auditor"], GrantsOf(ApiKeys.PrincipalOf(key, "ApiKey", TeamA)));
        Assert.Equal(["reader"], GrantsOf(ApiKeys.PrincipalOf(key, "ApiKey", TeamB)));
        Assert.Empty(GrantsOf(ApiKeys.PrincipalOf(key, "ApiKey", WorkspaceId.Default)));
        Assert.Equal(["team-a", "team-b"], MembershipsOf(ApiKeys.PrincipalOf(key, "ApiKey", WorkspaceId.Default)));
        Assert.Equal("key:platform/ci", key.Actor);
    }

    [Fact]
    public void the_platform_admin_role_is_on_every_request_and_makes_no_member_of_any_workspace()
    {
        var key = Key(WorkspaceId.Platform.Slug, new Grant(Roles.PlatformAdmin));
        var user = ApiKeys.PrincipalOf(key, "ApiKey", TeamA);

        Assert.True(AccessClaims.IsPlatformAdmin(user));
        Assert.Empty(MembershipsOf(user));
        // No workspace role: the registry's policies (reader and up) find no grant in it.
        Assert.Empty(AccessClaims.GrantsOf(user));
    }

    [Fact]
    public void a_workspace_admin_sees_of_a_platform_key_only_its_grants_in_that_workspace()
    {
        var key = Key(WorkspaceId.Platform.Slug, new Grant(Roles.Auditor, Workspace: "team-a"), new Grant(Roles.Reader, Churn, "churn", "team-b"),
            new Grant(Roles.PlatformAdmin));

        var shownInA = ApiKeyResponse.In(key, TeamA);
        Assert.Equal([("auditor", "team-a")], shownInA.Grants.Select(g => (g.Role, g.Workspace)));
        Assert.DoesNotContain("team-b", System.Text.Json.JsonSerializer.Serialize(shownInA));
        Assert.Equal(3, ApiKeyResponse.From(key).Grants.Count);
    }

    [Theory]
    [InlineData("reader", "default", "reader", null)]
    [InlineData("contributor:Churn", "default", "contributor", "churn")]
    [InlineData("team-a/auditor", "team-a", "auditor", null)]
    [InlineData("Team-A/contributor:churn/v2", "team-a", "contributor", "churn/v2")]
    public void a_token_role_names_its_workspace_before_a_slash(string value, string workspace, string role, string? model)
    {
        var (where, grant) = AccessClaims.ParseTokenRole(value)!.Value;
        Assert.Equal((workspace, role, model), (where.Slug, grant.Role, grant.ModelName));
    }

    [Theory]
    [InlineData("~platform/admin")]
    [InlineData("../reader")]
    [InlineData("team a/reader")]
    [InlineData("team-a/owner")]
    [InlineData("team-a/admin:churn")]
    [InlineData("/reader")]
    public void a_token_role_that_names_no_valid_workspace_or_role_grants_nothing(string value) =>
        Assert.Null(AccessClaims.ParseTokenRole(value));
}
