using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Workspaces;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>MLflow calls as the unchanged client makes them: the workspace's prefix as tracking URI, a key as Bearer (or Basic) credential.</summary>
public abstract class MlflowTest(AppFixture app) : WorkspaceTest(app)
{
    public sealed record Credential(string Scheme, string Value)
    {
        public static Credential Bearer(string key) => new("Bearer", key);
        public static Credential Basic(string user, string password) =>
            new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    /// <summary>A GET with the fields as query parameters, or a POST/PATCH/DELETE with them as a JSON body.</summary>
    protected async Task<RegistryCalls.Response> Mlflow(string workspace, HttpMethod method, string endpoint, object? fields, Credential? credential,
        string? rawBody = null)
    {
        var url = $"/api/v1/workspaces/{workspace}/api/2.0/mlflow/{endpoint}";
        if (method == HttpMethod.Get && fields is not null)
            url += "?" + string.Join("&", JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(fields))!.AsObject()
                .Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value!.ToString())}"));
        using var request = new HttpRequestMessage(method, url);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (method != HttpMethod.Get && fields is not null)
            request.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(fields), Encoding.UTF8, "application/json");
        if (credential is not null) request.Headers.Authorization = new AuthenticationHeaderValue(credential.Scheme, credential.Value);
        using var client = Host.Server.CreateClient();
        return await RegistryCalls.Read(await client.SendAsync(request));
    }

    /// <summary>Every event of the workspace: proof that a refusal appended nothing.</summary>
    protected async Task<long> EventsIn(string workspace)
    {
        await using var session = Store.QuerySession(workspace);
        return await session.Events.QueryAllRawEvents().CountAsync();
    }

    protected static string? ErrorCode(RegistryCalls.Response response) => response.Body?["error_code"]?.GetValue<string>();
}
