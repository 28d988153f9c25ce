using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Access;

/// <summary>
/// Issue 13, item 3: time travel authorizes the model it reads, not the one a name points at now. Model B is
/// registered as "b" with a secret, then renamed away; model A is renamed to "b", and a caller with a grant on A asks
/// for "b" at a point when B held the name. Before the fix the grant check passed on A (the name's holder now) and
/// the read returned B's past versions, lineage, metadata and digests.
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_reading_the_past_through_a_reused_name(AppFixture app) : ApiTest(app)
{
    private const string Secret = "b-secret-metadata";

    private sealed record Scene(long WhenBHeldTheName, long WhenAWasCalledA, DateTimeOffset InstantBHeldTheName);

    /// <summary>
    /// B ("b", a version in Production with a secret, alias b-champion) renamed to "b-old"; A registered as "a", then a
    /// key with <paramref name="grants"/> is made (a key's model grant needs the model to exist) and the admin renames A
    /// to "b".
    /// </summary>
    private async Task<(Scene Scene, HttpClient Caller)> A_takes_the_name_b_held(params string[] grants)
    {
        await Host.RegisterModel("b");
        await Host.RegisterVersion("b", RegistryCalls.Sha256B, new { metadata = new { secret = Secret }, lineage = new { runId = "b-run" } });
        await Host.Promote("b", 1, "Production").Ok();
        await Host.Put("/api/v1/models/b/aliases/b-champion", new { version = 1 }).Ok();
        var bHeld = await App.LastSequence();
        var bHeldAt = await App.TimestampOf(bHeld);
        await Host.Post("/api/v1/models/b/rename", new { newName = "b-old" }).Ok();

        await Host.RegisterModel("a");
        await Host.RegisterVersion("a", RegistryCalls.Sha256A);
        var aWasA = await App.LastSequence();
        var holder = grants.Length > 0 ? Host.ClientWithKey((await Host.CreateKey(grants)).Key) : null;
        // Renaming needs the contributor role registry-wide (a caller scoped to A cannot probe the namespace), so the
        // admin moves A onto the name; the caller holding A's grant then asks about "b" in the past.
        var rename = await Host.Post("/api/v1/models/a/rename", new { newName = "b" });
        Assert.True(rename.Status == 200, $"renaming a to b: {rename.Status} {rename.Body}");
        await App.WaitForHighWaterMark();
        return (new Scene(bHeld, aWasA, bHeldAt), holder ?? Host.Client());
    }

    /// <summary>Every route that reads a model at a point, by the name "b" at the point B held it.</summary>
    private static string[] PastReadsOfB(Scene scene) =>
    [
        $"/api/v1/models/b?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b?asOf={Uri.EscapeDataString(scene.InstantBHeldTheName.ToString("O"))}",
        $"/api/v1/models/b/versions?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b/versions/1?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b/aliases/b-champion?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b/aliases/latest?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b/history?atSequence={scene.WhenBHeldTheName}",
        $"/api/v1/models/b/deployments?atSequence={scene.WhenBHeldTheName}",
    ];

    private static void Assert_hidden_like_an_unknown_model(RegistryCalls.Response response, string url)
    {
        var problem = response.AssertProblem(404);
        Assert.Equal("Model not found", problem["title"]!.GetValue<string>());
        Assert.True(problem["detail"]!.GetValue<string>() == "No model is registered under the name 'b'.", $"{url}: {problem.ToJsonString()}");
        var body = response.Body!.ToJsonString();
        Assert.DoesNotContain(Secret, body);
        Assert.DoesNotContain(RegistryCalls.Sha256B, body);
        Assert.DoesNotContain("b-run", body);
    }

    [Fact]
    public async Task a_key_holder_who_renames_their_model_onto_an_old_name_cannot_read_the_former_holders_past()
    {
        var (scene, attacker) = await A_takes_the_name_b_held("contributor:a");

        foreach (var url in PastReadsOfB(scene))
            Assert_hidden_like_an_unknown_model(await attacker.Send(HttpMethod.Get, url), url);

        // The same reads by an admin do reach B: the refusal above is authorization, not a missing model.
        var admin = await Host.Get($"/api/v1/models/b/versions/1?atSequence={scene.WhenBHeldTheName}").Ok();
        Assert.Contains(Secret, admin.Body!.ToJsonString());
    }

    [Fact]
    public async Task a_rollback_by_the_new_holder_of_the_name_plans_from_its_own_past_only()
    {
        var (scene, attacker) = await A_takes_the_name_b_held("contributor:a");
        var length = await Store.StreamLength("b");

        var response = await attacker.Send(HttpMethod.Post, "/api/v1/models/b/rollback",
            new { atSequence = scene.WhenBHeldTheName, reason = "probe", dryRun = true });

        Assert.Equal(200, response.Status);
        Assert.Empty(response.Body!["plan"]!.AsArray()); // A had nothing in any stage then; B's Production and b-champion are not A's
        Assert.Equal(length, await Store.StreamLength("b"));
    }

    [Fact]
    public async Task a_token_grant_by_name_covers_the_model_holding_the_name_now_not_a_former_holder()
    {
        var (scene, _) = await A_takes_the_name_b_held();
        using var token = Host.ClientWithToken(Support.Access.Token("ci", ["contributor:b"]));

        foreach (var url in PastReadsOfB(scene))
            Assert_hidden_like_an_unknown_model(await token.Send(HttpMethod.Get, url), url);

        // The grant covers A, the model called b now, throughout its own past, under the name it had then.
        var past = await token.Send(HttpMethod.Get, $"/api/v1/models/a?atSequence={scene.WhenAWasCalledA}");
        Assert.True(past.Status == 200, $"{past.Status} {past.Body}");
        Assert.Equal("a", past.Body!["name"]!.GetValue<string>());
        Assert.Equal(200, (await token.Send(HttpMethod.Get, $"/api/v1/models/a/versions/1?atSequence={scene.WhenAWasCalledA}")).Status);
    }

    [Fact]
    public async Task a_key_grant_reads_its_models_past_under_the_name_it_had_then()
    {
        // A reader cannot rename: the key is made before the admin renames A.
        await Host.RegisterModel("a");
        using var reader = await Host.ClientWithRoles("reader:a");
        var aWasA = await App.LastSequence();
        await Host.Post("/api/v1/models/a/rename", new { newName = "b" }).Ok();
        await App.WaitForHighWaterMark();
        var scene = new Scene(0, aWasA, default);

        var past = await reader.Send(HttpMethod.Get, $"/api/v1/models/a?atSequence={scene.WhenAWasCalledA}");
        Assert.True(past.Status == 200, $"{past.Status} {past.Body}");
        Assert.Equal("a", past.Body!["name"]!.GetValue<string>());
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, $"/api/v1/models/a/history?atSequence={scene.WhenAWasCalledA}")).Status);
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, $"/api/v1/models/a/deployments?atSequence={scene.WhenAWasCalledA}")).Status);
        // Its name now, without a point, is its own as before.
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, "/api/v1/models/b")).Status);
    }

    [Fact]
    public async Task a_caller_scoped_to_another_model_learns_nothing_of_either_past()
    {
        var (scene, _) = await A_takes_the_name_b_held();
        await Host.RegisterModel("c");
        using var other = await Host.ClientWithRoles("contributor:c");

        foreach (var url in PastReadsOfB(scene))
            Assert_hidden_like_an_unknown_model(await other.Send(HttpMethod.Get, url), url);
        var oldName = await other.Send(HttpMethod.Get, $"/api/v1/models/b-old?atSequence={scene.WhenBHeldTheName}");
        Assert.Equal("No model is registered under the name 'b-old'.", oldName.AssertProblem(404)["detail"]!.GetValue<string>());
        var unknown = await other.Send(HttpMethod.Get, $"/api/v1/models/never-registered?atSequence={scene.WhenBHeldTheName}");
        Assert.Equal("No model is registered under the name 'never-registered'.", unknown.AssertProblem(404)["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_caller_lacking_the_role_is_refused_and_nothing_is_appended()
    {
        var (scene, _) = await A_takes_the_name_b_held();
        using var reader = await Host.ClientWithRoles("reader:b");
        var before = await RegistrySnapshot.Take(Host, Store);

        (await reader.Send(HttpMethod.Post, "/api/v1/models/b/rollback",
            new { atSequence = scene.WhenBHeldTheName, reason = "probe", dryRun = false })).AssertProblem(403);
        (await reader.Send(HttpMethod.Get, $"/api/v1/registry?atSequence={scene.WhenBHeldTheName}")).AssertProblem(403);
        (await reader.Send(HttpMethod.Get, $"/api/v1/registry/changes?to={scene.WhenBHeldTheName}")).AssertProblem(403);
        (await reader.Send(HttpMethod.Get, $"/api/v1/audit?to={scene.WhenBHeldTheName}")).AssertProblem(403);
        // A token whose roles the registry does not know holds no grant at all.
        using var nobody = Host.ClientWithToken(Support.Access.Token("nobody", ["viewer:b"]));
        (await nobody.Send(HttpMethod.Get, $"/api/v1/models/b?atSequence={scene.WhenBHeldTheName}")).AssertProblem(404);

        await before.AssertUnchanged(Host, Store);
    }
}
