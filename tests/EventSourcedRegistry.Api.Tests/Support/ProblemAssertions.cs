using EventSourcedRegistry.Store;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Support;

public static class ProblemAssertions
{
    /// <summary>
    /// The response is an RFC 9457 ProblemDetails with the given status, a title and a clear detail; with
    /// <paramref name="errorField"/> it is a validation problem whose <c>errors</c> names that field.
    /// </summary>
    public static JsonObject AssertProblem(this RegistryCalls.Response response, int status, string? errorField = null)
    {
        Assert.True(response.Status == status, $"expected {status}, got {response.Status}: {response.Body?.ToJsonString()}");
        Assert.Equal("application/problem+json", response.Raw.Content.Headers.ContentType?.MediaType);
        var problem = Assert.IsType<JsonObject>(response.Body);
        Assert.Equal(status, problem["status"]?.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()), $"no title: {problem.ToJsonString()}");
        var detail = problem["detail"]?.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(detail), $"no detail: {problem.ToJsonString()}");
        if (errorField is not null)
        {
            var errors = Assert.IsType<JsonObject>(problem["errors"]);
            Assert.True(errors[errorField] is JsonArray { Count: > 0 }, $"no errors.{errorField}: {problem.ToJsonString()}");
        }
        return problem;
    }
}

/// <summary>
/// The registry as a refused request must leave it: the number of events in the store (so no stream grew and
/// none began) and the revision each model's read serves as its ETag.
/// </summary>
public sealed record RegistrySnapshot(long TotalEvents, IReadOnlyDictionary<string, string?> ETags)
{
    public static async Task<RegistrySnapshot> Take(IAlbaHost host, IDocumentStore store)
    {
        IReadOnlyList<string> names;
        await using (var session = store.QuerySession(WorkspaceId.Default.TenantId))
            names = await session.Query<ModelView>().Select(m => m.Name).ToListAsync();

        var etags = new Dictionary<string, string?>();
        foreach (var name in names)
        {
            var read = await host.Get($"/api/v1/models/{Uri.EscapeDataString(name)}");
            Assert.Equal(200, read.Status);
            etags[name] = read.ETag;
        }
        return new RegistrySnapshot(await store.TotalEvents(), etags);
    }

    public async Task AssertUnchanged(IAlbaHost host, IDocumentStore store)
    {
        var now = await Take(host, store);
        Assert.True(TotalEvents == now.TotalEvents, $"events appended: {TotalEvents} before, {now.TotalEvents} after");
        Assert.Equal(ETags.OrderBy(m => m.Key), now.ETags.OrderBy(m => m.Key));
    }
}
