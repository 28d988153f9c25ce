using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Mlflow;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// The creation and last-update times in an MLflow answer about one model or a few of its versions are read for those
/// versions only (the model's first and last event by index probes), and still equal the times folded from the whole
/// stream in memory (<see cref="MlflowTimes.Fold"/>), the definition the search's SQL follows too.
/// </summary>
public sealed class when_answering_with_mlflow_times(AppFixture app) : MlflowTest(app)
{
    [Fact]
    public async Task each_answer_shows_the_times_the_whole_stream_folds_to()
    {
        var ws = await CreateWorkspace();
        var admin = Credential.Bearer(await KeyIn(ws, "admin"));
        async Task<JsonNode> Call(HttpMethod method, string endpoint, object fields)
        {
            // Apart in time, so each event's timestamp differs from the one before it in milliseconds.
            await Task.Delay(15);
            var answer = await Mlflow(ws, method, endpoint, fields, admin);
            Assert.True(answer.Status == 200, $"{endpoint}: {answer.Status} {answer.Body}");
            return answer.Body!;
        }

        await Call(HttpMethod.Post, "registered-models/create", new { name = "churn" });
        for (var v = 1; v <= 3; v++)
            await Call(HttpMethod.Post, "model-versions/create", new { name = "churn", source = $"s3://bucket/churn/{v}", run_id = $"r{v}" });
        await Call(HttpMethod.Post, "model-versions/transition-stage", new { name = "churn", version = "1", stage = "Staging", archive_existing_versions = false });
        await Call(HttpMethod.Post, "registered-models/alias", new { name = "churn", alias = "champion", version = "1" });
        await Call(HttpMethod.Post, "model-versions/transition-stage", new { name = "churn", version = "3", stage = "Production", archive_existing_versions = false });
        // Moving the alias away from version 1 changes version 1 too (previousVersion): its last update is this event,
        // though version 1 is in neither the stage nor the model-version call below it.
        await Call(HttpMethod.Post, "registered-models/alias", new { name = "churn", alias = "champion", version = "2" });
        await Call(HttpMethod.Patch, "model-versions/update", new { name = "churn", version = "2", description = "retrained" });

        MlflowTimes folded;
        await using (var session = Store.QuerySession(ws))
        {
            var id = (await session.Query<EventSourcedRegistry.Models.ModelView>().SingleAsync(m => m.NormalizedName == "churn")).Id;
            folded = MlflowTimes.Fold(await session.Events.FetchStreamAsync(id));
        }
        void Same(int version, JsonNode shown, string where)
        {
            Assert.Equal(version.ToString(System.Globalization.CultureInfo.InvariantCulture), shown["version"]!.GetValue<string>());
            Assert.True(folded.Of(version) == (shown["creation_timestamp"]!.GetValue<long>(), shown["last_updated_timestamp"]!.GetValue<long>()),
                $"{where}, version {version}: folded {folded.Of(version)}, shown {shown}");
        }

        // The times differ between versions, so an answer that took another version's (or the model's) would show.
        Assert.Equal(3, new[] { folded.Of(1), folded.Of(2), folded.Of(3) }.Distinct().Count());
        Assert.NotEqual((folded.Created, folded.Updated), folded.Of(1));
        for (var v = 1; v <= 3; v++)
            Same(v, (await Call(HttpMethod.Get, "model-versions/get", new { name = "churn", version = $"{v}" }))["model_version"]!, "model-versions/get");

        var model = (await Call(HttpMethod.Get, "registered-models/get", new { name = "churn" }))["registered_model"]!;
        Assert.Equal((folded.Created, folded.Updated), (model["creation_timestamp"]!.GetValue<long>(), model["last_updated_timestamp"]!.GetValue<long>()));
        var latest = model["latest_versions"]!.AsArray();
        Assert.Equal(["1", "2", "3"], latest.Select(l => l!["version"]!.GetValue<string>()));
        foreach (var shown in latest) Same(int.Parse(shown!["version"]!.GetValue<string>()), shown, "registered-models/get");

        var staged = (await Call(HttpMethod.Post, "registered-models/get-latest-versions", new { name = "churn", stages = new[] { "Staging" } }))["model_versions"]!.AsArray();
        Same(1, Assert.Single(staged)!, "get-latest-versions");
    }
}
