namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>A subscription is its workspace's: another workspace's admin neither lists it nor reaches it by id.</summary>
public sealed class when_workspaces_have_webhook_subscriptions_of_their_own(Support.AppFixture app) : WorkspaceTest(app)
{
    // A public address that is never called here: no model event follows the subscription.
    private const string Target = "http://192.0.2.10/hooks";

    [Fact]
    public async Task another_workspaces_admin_sees_nothing_of_it()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        var made = await Send(HttpMethod.Post, $"/api/v1/workspaces/{a}/subscriptions", new { targetUrl = Target }, workspaces: a);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        var id = made.Body!["subscription"]!["id"]!.GetValue<string>();

        var adminOfB = await KeyIn(b, "admin");
        Assert.Empty((await Send(HttpMethod.Get, $"/api/v1/workspaces/{b}/subscriptions", key: adminOfB)).Body!["items"]!.AsArray());
        Assert.Equal(404, (await Send(HttpMethod.Get, $"/api/v1/workspaces/{b}/subscriptions/{id}", key: adminOfB)).Status);
        Assert.Equal(404, (await Send(HttpMethod.Post, $"/api/v1/workspaces/{b}/subscriptions/{id}/pause", key: adminOfB)).Status);
        // Addressing a's route, b's admin is not a member: the answer of a workspace that does not exist.
        Assert.Equal(404, (await Send(HttpMethod.Get, $"/api/v1/workspaces/{a}/subscriptions/{id}", key: adminOfB)).Status);
        Assert.Equal("active", (await Send(HttpMethod.Get, $"/api/v1/workspaces/{a}/subscriptions/{id}", workspaces: a)).Body!["status"]!.GetValue<string>());
    }
}
