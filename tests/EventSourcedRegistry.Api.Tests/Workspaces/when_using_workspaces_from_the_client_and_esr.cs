using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Client;
using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

public sealed class when_using_workspaces_from_the_client_and_esr(AppFixture app) : WorkspaceTest(app)
{
    /// <summary>A client with a platform key holding admin in <paramref name="workspaces"/> (see <see cref="WorkspaceTest.AdminOf"/>).</summary>
    private async Task<HttpClient> MemberOf(string workspaces) => Host.ClientWithKey(await AdminOf(workspaces));

    [Fact]
    public async Task a_client_with_a_workspace_registers_and_reads_in_it_and_the_directory_calls_stay_unprefixed()
    {
        var slug = NewSlug();
        using var platform = new RegistryClient(new RegistryClientOptions { HttpClient = Host.Client() });
        var created = await platform.CreateWorkspaceAsync(slug, "Team A");
        using var member = await MemberOf(slug);
        using var client = new RegistryClient(new RegistryClientOptions { HttpClient = member, Workspace = slug });

        var model = await client.RegisterModelAsync("churn", "in the workspace");
        var listed = await client.ListWorkspacesAsync();

        Assert.Equal((slug, "Team A"), (created.Slug, created.DisplayName));
        Assert.Equal("in the workspace", (await client.GetModelAsync("churn")).Description);
        Assert.Equal("churn", model.Name);
        // The directory's calls are not prefixed: the member (a platform key holding admin in this workspace only) lists it alone.
        Assert.Equal([slug], listed.Items.Select(w => w.Slug));
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{slug}/models/churn", workspaces: slug)).Status);
        // Nothing landed in default.
        Assert.Equal(404, (await Get("/api/v1/models/churn")).Status);
    }

    [Fact]
    public async Task esr_manages_workspaces_and_addresses_one_with_the_workspace_option()
    {
        var slug = NewSlug();

        var create = await Host.Esr("workspaces", "create", slug, "Team A", "-o", "json");
        var rename = await Host.Esr("workspaces", "rename", slug, "Risk", "--reason", "reorg", "-o", "json");
        using var member = await MemberOf(slug);
        var register = await member.Esr("models", "register", "churn", "--workspace", slug, "-o", "json");
        var show = await member.Esr("models", "show", "churn", "-w", slug, "-o", "json");
        var list = await Host.Esr("workspaces", "list", "-o", "json");
        var archive = await Host.Esr("workspaces", "archive", slug, "-o", "json");
        var refused = await member.Esr("models", "register", "fraud", "--workspace", slug);

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("Risk", rename.Json.GetProperty("displayName").GetString());
        Assert.True(register.ExitCode == 0, register.ToString());
        Assert.Equal("churn", show.Json.GetProperty("name").GetString());
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), w => w.GetProperty("slug").GetString() == slug);
        Assert.True(archive.Json.GetProperty("archived").GetBoolean());
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("archived", refused.Error);
    }

    [Fact]
    public async Task esr_in_a_workspace_the_caller_is_not_a_member_of_says_not_found()
    {
        var slug = await CreateWorkspace();

        var run = await Host.Esr("models", "list", "--workspace", slug);

        Assert.Equal(2, run.ExitCode);
    }
}
