using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Idempotency;

public sealed class when_a_command_is_retried_with_an_idempotency_key(AppFixture app) : ApiTest(app)
{
    private static void AssertSameResponse(RegistryCalls.Response original, RegistryCalls.Response retry)
    {
        Assert.Equal(original.Status, retry.Status);
        Assert.Equal(original.Body!.ToJsonString(), retry.Body!.ToJsonString());
        Assert.Equal(original.Raw.Headers.Location, retry.Raw.Headers.Location);
        Assert.Equal(original.ETag, retry.ETag);
    }

    [Fact]
    public async Task ten_sequential_sends_give_one_response_and_one_event()
    {
        await Host.RegisterModel("churn");
        var key = Behaviour.IdempotencyKey("train-run-42");

        var responses = new List<RegistryCalls.Response>();
        for (var i = 0; i < 10; i++) responses.Add(await Host.RegisterVersionWith("churn", key));

        Assert.Equal(201, responses[0].Status);
        Assert.Equal("/api/v1/models/churn/versions/1", responses[0].Raw.Headers.Location!.ToString());
        Assert.Equal("\"2\"", responses[0].ETag);
        Assert.All(responses.Skip(1), r => AssertSameResponse(responses[0], r));
        Assert.All(responses.Skip(1), r => Assert.Equal("true", r.Header("Idempotent-Replayed")));
        Assert.Equal(2, await Store.StreamLength("churn"));
        Assert.Equal(1, (await Host.Model("churn"))["latestVersion"]!.GetValue<int>());
    }

    [Fact]
    public async Task ten_parallel_sends_give_one_response_and_one_event()
    {
        await Host.RegisterModel("churn");
        var key = Behaviour.IdempotencyKey("train-run-43");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Host.RegisterVersionWith("churn", key)));

        Assert.Equal(201, responses[0].Status);
        Assert.All(responses.Skip(1), r => AssertSameResponse(responses[0], r));
        Assert.Equal(1, responses[0].Body!["version"]!.GetValue<int>());
        Assert.Equal(2, await Store.StreamLength("churn"));
        Assert.Equal(2, await Store.RegistryEvents());
    }

    [Fact]
    public async Task ten_parallel_promotions_with_one_key_give_one_response_and_one_event()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var key = Behaviour.IdempotencyKey("promote-1");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Host.Promote("churn", 1, "Production", reason: "release", headers: key)));

        Assert.Equal(200, responses[0].Status);
        Assert.All(responses.Skip(1), r => AssertSameResponse(responses[0], r));
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task ten_parallel_archives_with_one_key_all_get_the_first_response()
    {
        await Host.RegisterModel("churn");
        var key = Behaviour.IdempotencyKey("archive-churn");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Host.Post("/api/v1/models/churn/archive", new { reason = "retired" }, key)));

        Assert.Equal(200, responses[0].Status);
        Assert.All(responses.Skip(1), r => AssertSameResponse(responses[0], r));
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task ten_parallel_alias_removals_with_one_key_all_get_the_first_response()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }).Ok();
        var key = Behaviour.IdempotencyKey("drop-champion");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Host.Delete("/api/v1/models/churn/aliases/champion", key)));

        Assert.All(responses, r => Assert.Equal(204, r.Status));
        Assert.All(responses, r => Assert.Equal("\"4\"", r.ETag));
        Assert.Equal(4, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task ten_parallel_model_registrations_with_one_key_all_get_the_first_response()
    {
        var key = Behaviour.IdempotencyKey("create-churn");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Host.Post("/api/v1/models", new { name = "churn" }, key)));

        Assert.Equal(201, responses[0].Status);
        Assert.All(responses.Skip(1), r => AssertSameResponse(responses[0], r));
        Assert.Equal(1, await Store.RegistryEvents());
    }

    [Fact]
    public async Task the_same_key_with_another_body_is_422_and_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("k1")).Ok(201);

        var response = await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("k1"), sha256: RegistryCalls.Sha256B);

        Assert.Equal(422, response.Status);
        Assert.Contains("Idempotency-Key", response.Body!["detail"]!.GetValue<string>());
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task the_same_key_on_another_command_is_422()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("k1")).Ok(201);

        var response = await Host.Promote("churn", 1, "Staging", headers: Behaviour.IdempotencyKey("k1"));

        Assert.Equal(422, response.Status);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_different_key_registers_another_version()
    {
        await Host.RegisterModel("churn");

        var first = await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("run-1")).Ok(201);
        var second = await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("run-2")).Ok(201);

        Assert.Equal(1, first.Body!["version"]!.GetValue<int>());
        Assert.Equal(2, second.Body!["version"]!.GetValue<int>());
        Assert.Null(second.Header("Idempotent-Replayed"));
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task registering_a_model_twice_with_one_key_registers_one_model()
    {
        var key = Behaviour.IdempotencyKey("create-churn");

        var first = await Host.Post("/api/v1/models", new { name = "churn", description = "who leaves" }, key);
        var second = await Host.Post("/api/v1/models", new { name = "churn", description = "who leaves" }, key);

        Assert.Equal(201, first.Status);
        AssertSameResponse(first, second);
        Assert.Equal("/api/v1/models/churn", second.Raw.Headers.Location!.ToString());
        Assert.Equal(1, await Store.RegistryEvents());
    }

    [Fact]
    public async Task registering_a_model_with_a_used_key_and_another_body_is_422()
    {
        await Host.Post("/api/v1/models", new { name = "churn" }, Behaviour.IdempotencyKey("create")).Ok(201);

        var response = await Host.Post("/api/v1/models", new { name = "fraud" }, Behaviour.IdempotencyKey("create"));

        Assert.Equal(422, response.Status);
        Assert.Equal(404, (await Host.Get("/api/v1/models/fraud")).Status);
        Assert.Equal(1, await Store.RegistryEvents());
    }

    [Fact]
    public async Task a_refusal_is_not_remembered_so_a_retry_decides_again()
    {
        await Host.RegisterModel("churn");
        var key = Behaviour.IdempotencyKey("promote-early");

        Assert.Equal(404, (await Host.Promote("churn", 1, "Staging", headers: key)).Status);
        await Host.RegisterVersion("churn");

        Assert.Equal(200, (await Host.Promote("churn", 1, "Staging", headers: key)).Status);
    }
}
