using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Calls made in a workspace: the request reaches the endpoints with its <see cref="IWorkspaceFeature"/> set, exactly as
/// the routing middleware leaves it for <c>/api/v1/workspaces/{ws}/…</c>, whether or not that middleware is in this host.
/// </summary>
public sealed class WorkspaceClient(IAlbaHost host, WorkspaceId workspace, string authorization = "ApiKey " + AppFixture.AdminKey)
{
    public WorkspaceId Workspace { get; } = workspace;

    /// <summary>Registers the workspace's partitions in the host's store (idempotent), so its sessions may write.</summary>
    public static async Task<WorkspaceClient> Open(IAlbaHost host, WorkspaceId workspace, string? authorization = null)
    {
        await WorkspacePartitions.AddAsync(host.Services.GetRequiredService<IDocumentStore>(), workspace, CancellationToken.None);
        await host.CreateInDirectory(workspace);
        // The bootstrap key is a member of default only: in another workspace, that workspace's admin.
        authorization ??= "ApiKey " + await host.AdminKeyOf(workspace);
        return new WorkspaceClient(host, workspace, authorization);
    }

    public Task<RegistryCalls.Response> Get(string url) => Send(HttpMethod.Get, url);

    public Task<RegistryCalls.Response> Head(string url) => Send(HttpMethod.Head, url);

    public Task<RegistryCalls.Response> Delete(string url) => Send(HttpMethod.Delete, url);

    public Task<RegistryCalls.Response> Post(string url, object? body) =>
        Send(HttpMethod.Post, url, body is null ? null : JsonSerializer.SerializeToUtf8Bytes(body, body.GetType()), "application/json");

    public Task<RegistryCalls.Response> Upload(byte[] bytes) =>
        Send(HttpMethod.Post, "/api/v1/artifacts", bytes, "application/octet-stream");

    public async Task<RegistryCalls.Response> Send(HttpMethod method, string url, byte[]? body = null, string? contentType = null)
    {
        var query = url.IndexOf('?');
        var context = await host.Server.SendAsync(http =>
        {
            http.Features.Set<IWorkspaceFeature>(new WorkspaceFeature(Workspace));
            http.Request.Method = method.Method;
            http.Request.Path = query < 0 ? url : url[..query];
            if (query >= 0) http.Request.QueryString = new QueryString(url[query..]);
            http.Request.Headers.Authorization = authorization;
            if (body is not null)
            {
                http.Request.Body = new MemoryStream(body);
                http.Request.ContentLength = body.Length;
                http.Request.ContentType = contentType;
            }
        });

        var text = await new StreamReader(context.Response.Body, Encoding.UTF8).ReadToEndAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try { json = JsonNode.Parse(text); }
            catch (JsonException) { json = JsonValue.Create(text); }
        }
        var raw = new HttpResponseMessage((System.Net.HttpStatusCode)context.Response.StatusCode) { Content = new ByteArrayContent([]) };
        foreach (var (name, values) in context.Response.Headers)
            if (!raw.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                raw.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        return new RegistryCalls.Response(context.Response.StatusCode, json, raw);
    }

    public async Task<RegistryCalls.Response> Ok(Task<RegistryCalls.Response> call, int status = 200)
    {
        var response = await call;
        Assert.True(response.Status == status, $"{Workspace}: expected {status}, got {response.Status}: {response.Body}");
        return response;
    }
}
