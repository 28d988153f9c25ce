using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Http;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// Requests addressed to one workspace the way the routing middleware addresses them: the request carries the
/// workspace in its <see cref="IWorkspaceFeature"/>, so the endpoint code runs exactly as for a prefixed route.
/// </summary>
public static class WorkspaceCalls
{
    public sealed record WorkspaceResponse(int Status, string Text, IHeaderDictionary Headers)
    {
        public JsonNode Json => JsonNode.Parse(Text)!;
    }

    public static async Task<WorkspaceResponse> InWorkspace(this IAlbaHost host, WorkspaceId workspace, string method, string pathAndQuery,
        string? key = AppFixture.AdminKey, string? accept = null)
    {
        // The bootstrap key is a member of default only: in another workspace, that workspace's admin.
        if (key == AppFixture.AdminKey) key = await host.AdminKeyOf(workspace);
        var context = await host.Server.SendAsync(c =>
        {
            c.Request.Method = method;
            var query = pathAndQuery.IndexOf('?');
            c.Request.Path = query < 0 ? pathAndQuery : pathAndQuery[..query];
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(pathAndQuery[query..]);
            if (key is not null) c.Request.Headers.Authorization = "ApiKey " + key;
            if (accept is not null) c.Request.Headers.Accept = accept;
            c.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(workspace));
        });
        using var reader = new StreamReader(context.Response.Body);
        return new WorkspaceResponse(context.Response.StatusCode, await reader.ReadToEndAsync(), context.Response.Headers);
    }

    public static async Task<JsonNode> VerifyIn(this IAlbaHost host, WorkspaceId workspace, string query = "")
    {
        var response = await host.InWorkspace(workspace, "GET", "/api/v1/audit/verify" + query);
        Assert.True(response.Status == 200, $"verify in {workspace}: {response.Status} {response.Text}");
        return response.Json;
    }
}
