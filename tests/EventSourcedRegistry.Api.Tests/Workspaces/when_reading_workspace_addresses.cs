using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>The prefix rule alone, without a host.</summary>
public sealed class when_reading_workspace_addresses
{
    [Theory]
    [InlineData("/api/v1/workspaces/team-a/models", "team-a", "/api/v1/workspaces/team-a", "/models")]
    [InlineData("/api/v1/workspaces/team-a/models/churn/versions/1", "team-a", "/api/v1/workspaces/team-a", "/models/churn/versions/1")]
    [InlineData("/API/V1/Workspaces/team-a/models", "team-a", "/API/V1/Workspaces/team-a", "/models")]
    [InlineData("/api/v1/workspaces/default/registry", "default", "/api/v1/workspaces/default", "/registry")]
    [InlineData("/api/v1/workspaces/team-a/models/rename", "team-a", "/api/v1/workspaces/team-a", "/models/rename")]
    public void a_prefixed_path_is_the_workspace_and_the_unprefixed_rest(string path, string slug, string prefix, string rest)
    {
        Assert.True(WorkspaceAddressing.TryStrip(new PathString(path), out var workspace, out var matched, out var stripped));
        Assert.Equal((slug, prefix, rest), (workspace.Slug, matched.Value, stripped));
    }

    [Theory]
    [InlineData("/api/v1/models")]
    [InlineData("/api/v1/workspaces")]
    [InlineData("/api/v1/workspaces/")]
    [InlineData("/api/v1/workspaces/team-a")]
    [InlineData("/api/v1/workspaces/team-a/")]
    [InlineData("/api/v1/workspaces/team-a/rename")]
    [InlineData("/api/v1/workspaces/team-a/archive")]
    [InlineData("/api/v1/workspaces/Team-A/models")]
    [InlineData("/api/v1/workspaces/~platform/models")]
    [InlineData("/api/v1/workspaces/a%2Fb/models")]
    [InlineData("/api/v1/workspaces//models")]
    [InlineData("/api/v1/workspacesx/team-a/models")]
    [InlineData("/health/live")]
    public void any_other_path_is_left_alone(string path) =>
        Assert.False(WorkspaceAddressing.TryStrip(new PathString(path), out _, out _, out _));

    [Theory]
    [InlineData("/api/v1/models/churn", "/api/v1/workspaces/team-a/models/churn")]
    [InlineData("/api/v1/admin/keys/abc", "/api/v1/workspaces/team-a/admin/keys/abc")]
    [InlineData("/api/v1/workspaces/team-b", "/api/v1/workspaces/team-b")]
    [InlineData("https://elsewhere.example/api/v1/models", "https://elsewhere.example/api/v1/models")]
    [InlineData("s3://bucket/model.onnx", "s3://bucket/model.onnx")]
    public void a_link_of_the_api_takes_the_workspace_prefix(string link, string expected) =>
        Assert.Equal(expected, WorkspaceAddressing.Link(WorkspaceId.Parse("team-a"), link));
}
