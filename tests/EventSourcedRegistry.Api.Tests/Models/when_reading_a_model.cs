using System.Buffers;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Api.Infrastructure;
using WireJson = EventSourcedRegistry.Api.Infrastructure.Json;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Models;

/// <summary>
/// Issue 17: <c>GET /models/{name}</c> answers the stored view's JSON rewritten into the wire's spelling instead of
/// deserializing and serializing it again; the bytes must be exactly what the object round trip wrote before.
/// </summary>
public sealed class when_reading_a_model(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task the_answer_is_byte_for_byte_the_serialized_view_and_its_etag_is_the_revision()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "ml <&> équipe", ["zz"] = "a \"quoted\" 🚀", ["a"] = "x" });
        await Host.Patch("/api/v1/models/churn", new { description = "Who leaves\nnext month — <b>bold</b>" }).Ok();
        for (var v = 0; v < 3; v++) await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        await Host.Promote("churn", 2, "Staging").Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2, reason = "best" }).Ok();
        await Host.Post("/api/v1/models/churn/deployments", new { version = 1, environment = "prod", target = "eu-1", action = "deployed" }).Ok();
        await Host.Put("/api/v1/models/churn/metadata-schema", new
        {
            schema = new { type = "object", properties = new { auc = new { type = "number", minimum = 0.5, description = "área <under> curve" } }, required = new[] { "auc" } },
            reason = "a standard",
        }).Ok();

        var (body, etag) = await RawGet("/api/v1/models/churn");

        var view = await StoredView("churn");
        Assert.Equal(JsonSerializer.Serialize(view, WireJson.Options), body);
        Assert.Equal($"\"{view.Revision}\"", etag);
        Assert.Contains("\"metadataSchema\":{", body);
        // The answer came from the stored text by the rewrite, not by the slow path's object round trip: the stored
        // spelling (jsonb) differs from the wire's, and the rewrite of it is the answer.
        var stored = await StoredText("churn");
        Assert.NotEqual(body, stored);
        Assert.Equal(body, Rewritten(stored));
    }

    [Fact]
    public async Task a_view_stored_without_a_member_the_serializer_always_writes_reads_as_the_object_round_trip_did()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth" });
        var id = await Store.ModelId("churn");
        // As a document written before the member existed would be: the rewrite cannot know what reading it gives (a
        // fresh view's empty tags), so it takes the slow path and answers that.
        await using (var session = Store.LightweightSession(WorkspaceId.Default.TenantId))
        {
            session.QueueSqlCommand($"update {RegistryStore.Schema}.mt_doc_modelview set data = data - 'tags' where id = ? and tenant_id = ?",
                id, WorkspaceId.Default.TenantId);
            await session.SaveChangesAsync();
        }

        var (body, etag) = await RawGet("/api/v1/models/churn");

        var view = await StoredView("churn");
        Assert.Empty(view.Tags);
        Assert.Equal(JsonSerializer.Serialize(view, WireJson.Options), body);
        Assert.Contains("\"tags\":{}", body);
        Assert.Equal("\"1\"", etag);
        Assert.Null(Rewritten(await StoredText("churn")));
    }

    [Fact]
    public async Task an_unknown_model_is_404_problem_details()
    {
        var response = await Host.Get("/api/v1/models/nope");

        Assert.Equal(404, response.Status);
        Assert.Equal("Model not found", response.Body!["title"]!.GetValue<string>());
    }

    private async Task<(string Body, string? ETag)> RawGet(string url)
    {
        using var client = Host.Client();
        using var response = await client.GetAsync(url);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return (await response.Content.ReadAsStringAsync(), response.Headers.ETag?.Tag);
    }

    private async Task<string> StoredText(string name)
    {
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var normalized = name.ToLowerInvariant();
        return (await session.Query<ModelView>().Where(x => x.NormalizedName == normalized).ToJsonFirstOrDefault())!;
    }

    private static string? Rewritten(string stored)
    {
        var wire = new ArrayBufferWriter<byte>();
        return StoredJson.TryWriteWire(Encoding.UTF8.GetBytes(stored), typeof(ModelView), WireJson.Options, wire)
            ? Encoding.UTF8.GetString(wire.WrittenSpan)
            : null;
    }

    /// <summary>The view as the endpoint read it before: Marten's deserialization of the stored document.</summary>
    private async Task<ModelView> StoredView(string name)
    {
        var id = await Store.ModelId(name);
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        return (await session.LoadAsync<ModelView>(id))!;
    }
}
