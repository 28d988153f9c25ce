using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Models;

public sealed class when_registering_a_model(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task it_answers_201_with_the_model_view_and_its_revision_as_etag()
    {
        var response = await Host.RegisterModel("churn", new Dictionary<string, string> { ["team"] = "growth" });

        Assert.Equal("churn", response.Body!["name"]!.GetValue<string>());
        Assert.Equal("growth", response.Body["tags"]!["team"]!.GetValue<string>());
        Assert.Equal("\"1\"", response.ETag);
        Assert.Equal("/api/v1/models/churn", response.Raw.Headers.Location?.ToString());
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_second_model_with_the_same_name_in_another_case_is_refused_with_409()
    {
        await Host.RegisterModel("churn");

        var second = await Host.Post("/api/v1/models", new { name = "CHURN" });

        Assert.Equal(409, second.Status);
        Assert.Contains("already exists", second.Body!["detail"]!.GetValue<string>());
        Assert.Equal(1, await Store.RegistryEvents());
    }

    [Fact]
    public async Task of_concurrent_registrations_of_one_name_exactly_one_wins()
    {
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Host.Post("/api/v1/models", new { name = i % 2 == 0 ? "race" : "RACE" })));

        Assert.Single(attempts, a => a.Status == 201);
        Assert.All(attempts.Where(a => a.Status != 201), a => Assert.Equal(409, a.Status));
        Assert.Equal(1, await Store.RegistryEvents());
    }
}
