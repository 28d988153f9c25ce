using EventSourcedRegistry.Store;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Views;

public sealed class when_a_command_writes_the_inline_views(AppFixture app) : ApiTest(app)
{
    private async Task<(ModelView? View, long StreamVersion)> Stored(string name)
    {
        var id = await Store.ModelId(name);
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var view = await session.LoadAsync<ModelView>(id);
        var state = await session.Events.FetchStreamStateAsync(id);
        return (view, state!.Version);
    }

    [Fact]
    public async Task the_stored_model_view_reflects_each_command_as_soon_as_it_answers()
    {
        await Host.RegisterModel("churn");
        var (registered, v1) = await Stored("churn");
        Assert.Equal(("churn", 1L, 1L), (registered!.Name, registered.Revision, v1));

        await Host.RegisterVersion("churn");
        var (withVersion, v2) = await Stored("churn");
        Assert.Equal((1, 2L, 2L), (withVersion!.LatestVersion, withVersion.Revision, v2));

        await Host.Promote("churn", 1, "Production").Ok();
        var (promoted, v3) = await Stored("churn");
        Assert.Equal([1], promoted!.VersionsByStage["Production"]);
        Assert.Equal(v3, promoted.Revision);

        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }).Ok();
        var (aliased, v4) = await Stored("churn");
        Assert.Equal(1, aliased!.Aliases["champion"]);
        Assert.Equal((4L, 4L), (aliased.Revision, v4));
    }

    [Fact]
    public async Task the_stored_version_view_reflects_the_command_too()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var id = await Store.ModelId("churn");

        await Host.Promote("churn", 1, "Staging").Ok();

        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var version = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(id, 1));
        Assert.Equal("Staging", version!.Stage);
    }

    [Fact]
    public async Task the_revision_of_every_read_equals_the_stream_version()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 2, "Production", archiveExisting: true).Ok();

        var (_, streamVersion) = await Stored("churn");
        var model = await Host.Get("/api/v1/models/churn").Ok();

        Assert.Equal(streamVersion, model.Body!["revision"]!.GetValue<long>());
        Assert.Equal($"\"{streamVersion}\"", model.ETag);
        Assert.Equal($"\"{streamVersion}\"", (await Host.Get("/api/v1/models/churn/versions/2")).ETag);
    }

    [Fact]
    public async Task the_model_view_can_be_rebuilt_from_the_events_and_equals_the_stored_one()
    {
        await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth" });
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        await Host.Promote("churn", 2, "Production", archiveExisting: true).Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 2 }).Ok();
        await Host.Post("/api/v1/models/churn/rename", new { newName = "churn2" }).Ok();

        var (stored, _) = await Stored("churn2");
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var replayed = await session.Events.AggregateStreamAsync<ModelView>(stored!.Id);

        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(stored), System.Text.Json.JsonSerializer.Serialize(replayed));
    }

    // Editing a stored document behind the registry's back shows where reads and decisions come from: a
    // replay would not see the edit.
    private async Task Tamper(string name, Action<ModelView> edit)
    {
        var id = await Store.ModelId(name);
        await using var session = Store.LightweightSession(WorkspaceId.Default.TenantId);
        var view = (await session.LoadAsync<ModelView>(id))!;
        edit(view);
        session.Store(view);
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task reading_a_model_serves_the_stored_document_without_replaying_the_stream()
    {
        await Host.RegisterModel("churn");
        await Tamper("churn", view => view.Description = "only in the document");

        Assert.Equal("only in the document", (await Host.Model("churn"))["description"]!.GetValue<string>());
        var listed = await Host.Get("/api/v1/models").Ok();
        Assert.Equal("only in the document", listed.Body!["items"]![0]!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task reading_a_version_serves_the_stored_document_without_replaying_the_stream()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var key = ModelVersionView.Key(await Store.ModelId("churn"), 1);
        await using (var session = Store.LightweightSession(WorkspaceId.Default.TenantId))
        {
            var version = (await session.LoadAsync<ModelVersionView>(key))!;
            version.Description = "only in the document";
            session.Store(version);
            await session.SaveChangesAsync();
        }

        var read = await Host.Get("/api/v1/models/churn/versions/1").Ok();

        Assert.Equal("only in the document", read.Body!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_command_is_decided_against_the_stored_view_without_replaying_the_stream()
    {
        await Host.RegisterModel("churn");
        await Tamper("churn", view => view.Description = "only in the document");

        var response = await Host.Patch("/api/v1/models/churn", new { setTags = new Dictionary<string, string> { ["team"] = "growth" } }).Ok();

        Assert.Equal("only in the document", response.Body!["description"]!.GetValue<string>());
        Assert.Equal(2, await Store.StreamLength("churn"));
    }
}
