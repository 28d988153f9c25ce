using EventSourcedRegistry.Api.WebConsole;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.ConsoleTests;

/// <summary>The console's workspace prefix: which paths name a workspace (pure, no browser).</summary>
public sealed class when_addressing_console_pages
{
    [Theory]
    [InlineData("/console/workspaces/team-a/registry", "team-a")]
    [InlineData("/console/workspaces/team-a/models/churn", "team-a")]
    [InlineData("/console/workspaces/default", "default")]
    [InlineData("/CONSOLE/Workspaces/team-a/registry", "team-a")]
    public void a_console_path_under_a_slug_names_that_workspace(string path, string slug)
    {
        Assert.True(ConsoleConfiguration.TryWorkspace(new PathString(path), out var workspace));
        Assert.Equal(WorkspaceId.Parse(slug), workspace);
    }

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/signin")]
    [InlineData("/console/workspaces")]
    [InlineData("/console/workspaces/")]
    [InlineData("/console/workspaces/~platform/registry")]
    [InlineData("/console/workspaces/Not A Slug/registry")]
    [InlineData("/api/v1/workspaces/team-a/models")]
    [InlineData("/consoles/workspaces/team-a/registry")]
    public void any_other_path_names_none(string path) =>
        Assert.False(ConsoleConfiguration.TryWorkspace(new PathString(path), out _));

    [Fact]
    public void console_paths_are_those_under_the_console_segment()
    {
        Assert.True(ConsoleConfiguration.IsConsole(new PathString("/console")));
        Assert.True(ConsoleConfiguration.IsConsole(new PathString("/console/assets/console.css")));
        Assert.False(ConsoleConfiguration.IsConsole(new PathString("/consoles")));
        Assert.False(ConsoleConfiguration.IsConsole(new PathString("/api/v1/console")));
    }
}
