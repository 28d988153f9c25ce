using EventSourcedRegistry.Api.Tests.Support;
using Marten;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Issue 13, item 8: a page of a model's history and a version as of a point read their own events in the database, not
/// the whole stream. Shown by damaging an event such a read does not need (after the async projections have passed it):
/// before the change these reads loaded it with the rest of the stream and failed; now they never touch it.
/// </summary>
public sealed class when_reading_only_what_a_page_needs(AppFixture app) : ApiTest(app)
{
    /// <summary>Makes the stored data of the model's event at that stream version unreadable as its type.</summary>
    private async Task Damage(string model, long version)
    {
        await Store.WaitForAuditTrail();
        var id = await Store.ModelId(model);
        Assert.Equal(1, await App.Sql("update registry.mt_events set data = '[]'::jsonb where stream_id = $1 and version = $2", id, version));
    }

    private async Task<long> SequenceOf(string model, long version)
    {
        var id = await Store.ModelId(model);
        return (await App.SqlList<long>("select seq_id from registry.mt_events where stream_id = $1 and version = $2", id, version)).Single();
    }

    [Fact]
    public async Task a_history_page_reads_only_its_own_events_and_pages_every_event_once_in_order()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 6; i++) await Host.RegisterVersion("churn");
        await Damage("churn", 7);

        var seen = new List<long>();
        string? cursor = null;
        for (var page = 0; page < 3; page++)
        {
            var response = await Host.Get($"/api/v1/models/churn/history?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}").Ok();
            seen.AddRange(response.Body!["items"]!.AsArray().Select(e => e!["revision"]!.GetValue<long>()));
            cursor = response.Body["nextCursor"]!.GetValue<string>();
        }
        Assert.Equal([1, 2, 3, 4, 5, 6], seen);
        Assert.Equal("6", cursor);
    }

    [Fact]
    public async Task the_default_history_page_holds_a_small_history_whole_with_no_next_cursor()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 4; i++) await Host.RegisterVersion("churn");

        var response = await Host.Get("/api/v1/models/churn/history").Ok();

        Assert.Equal([1, 2, 3, 4, 5], response.Body!["items"]!.AsArray().Select(e => e!["revision"]!.GetValue<long>()));
        Assert.Null(response.Body["nextCursor"]);
        Assert.Equal("\"5\"", response.ETag);
    }

    [Fact]
    public async Task a_version_as_of_a_point_reads_the_model_snapshot_and_that_versions_own_events_only()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B); // stream version 3: snapshot (every 3 in the test host)
        await Host.Promote("churn", 1, "Production").Ok();
        await Host.Patch("/api/v1/models/churn/versions/1", new { description = "reviewed" }).Ok();
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }).Ok();
        var point = await SequenceOf("churn", 6);
        await Damage("churn", 3); // version 2's registration: before the snapshot, and not version 1's

        var version = await Host.Get($"/api/v1/models/churn/versions/1?atSequence={point}").Ok();
        Assert.Equal("Production", version.Body!["stage"]!.GetValue<string>());
        Assert.Equal("reviewed", version.Body["description"]!.GetValue<string>());
        Assert.Equal(["champion"], version.Body["aliases"]!.AsArray().Select(a => a!.GetValue<string>()));
        var alias = await Host.Get($"/api/v1/models/churn/aliases/champion?atSequence={point}").Ok();
        Assert.Equal(1, alias.Body!["version"]!.GetValue<int>());
        var list = await Host.Get($"/api/v1/models/churn/versions?stage=Production&atSequence={point}").Ok();
        Assert.Equal([1], list.Body!["items"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        var plan = await Host.Post("/api/v1/models/churn/rollback", new { atSequence = point, reason = "no-op", dryRun = true }).Ok();
        Assert.Empty(plan.Body!["plan"]!.AsArray());
    }

    [Fact]
    public async Task the_history_and_deployments_as_of_a_point_end_at_that_point()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Promote("churn", 1, "Production").Ok();
        await Host.Post("/api/v1/models/churn/deployments", new { version = 1, environment = "prod", action = "deployed" }).Ok();
        var point = await App.LastSequence();
        await Host.Promote("churn", 1, "Staging").Ok();
        await Host.Post("/api/v1/models/churn/deployments", new { version = 1, environment = "prod", action = "undeployed" }).Ok();
        await Host.Post("/api/v1/models/churn/rename", new { newName = "attrition" }).Ok();
        await App.WaitForHighWaterMark();

        var history = await Host.Get($"/api/v1/models/churn/history?atSequence={point}").Ok();
        Assert.Equal([1, 2, 3, 4], history.Body!["items"]!.AsArray().Select(e => e!["revision"]!.GetValue<long>()));
        Assert.Equal("churn", history.Body["model"]!.GetValue<string>());
        Assert.Equal(point, history.Body["asOfSequence"]!.GetValue<long>());

        var then = await Host.Get($"/api/v1/models/churn/deployments?atSequence={point}").Ok();
        var intervals = then.Body!["items"]!.AsArray();
        Assert.Equal(3, intervals.Count); // None (closed), Production (open then), prod deployment (open then)
        Assert.Equal("None", intervals[0]!["stage"]!.GetValue<string>());
        Assert.NotNull(intervals[0]!["left"]);
        Assert.All(intervals.Skip(1), i => Assert.Null(i!["left"]));
        Assert.Equal(point, then.Body["asOfSequence"]!.GetValue<long>());

        var now = await Host.Get("/api/v1/models/attrition/deployments").Ok();
        Assert.Equal(4, now.Body!["items"]!.AsArray().Count);
        Assert.All(now.Body["items"]!.AsArray().Where(i => i!["stage"]?.GetValue<string>() != "Staging"), i => Assert.NotNull(i!["left"]));
    }
}
