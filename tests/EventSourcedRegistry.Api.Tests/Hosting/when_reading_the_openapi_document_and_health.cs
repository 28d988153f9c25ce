using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Hosting;

public sealed class when_reading_the_openapi_document_and_health(AppFixture app) : ApiTest(app)
{
    public static TheoryData<string, string> Endpoints => new()
    {
        { "/api/v1/models", "post" },
        { "/api/v1/models", "get" },
        { "/api/v1/models/{name}", "get" },
        { "/api/v1/models/{name}", "patch" },
        { "/api/v1/models/{name}/rename", "post" },
        { "/api/v1/models/{name}/archive", "post" },
        { "/api/v1/models/{name}/restore", "post" },
        { "/api/v1/models/{name}/history", "get" },
        { "/api/v1/models/{name}/versions", "post" },
        { "/api/v1/models/{name}/versions", "get" },
        { "/api/v1/models/{name}/versions/{version}", "get" },
        { "/api/v1/models/{name}/versions/{version}", "patch" },
        { "/api/v1/models/{name}/versions/{version}/stage", "post" },
        { "/api/v1/models/{name}/aliases/{alias}", "put" },
        { "/api/v1/models/{name}/aliases/{alias}", "delete" },
        { "/api/v1/models/{name}/aliases/{alias}", "get" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task the_openapi_document_lists_the_endpoint(string path, string method)
    {
        var document = await Host.Get("/openapi/v1.json").Ok();

        var paths = document.Body!["paths"]!.AsObject();
        Assert.True(paths.ContainsKey(path), $"{path} is missing; the document has: {string.Join(", ", paths.Select(p => p.Key))}");
        Assert.True(paths[path]!.AsObject().ContainsKey(method), $"{method.ToUpperInvariant()} {path} is missing");
    }

    [Fact]
    public async Task the_openapi_document_is_json_and_lists_nothing_outside_the_api()
    {
        var document = await Host.Get("/openapi/v1.json").Ok();

        Assert.StartsWith("application/json", document.Raw.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("3.", document.Body!["openapi"]!.GetValue<string>());
        Assert.All(document.Body["paths"]!.AsObject(), p => Assert.StartsWith("/api/v1/", p.Key));
    }

    [Fact]
    public async Task every_route_the_app_serves_under_api_v1_is_in_the_openapi_document()
    {
        var served = Host.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("api/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m =>
                $"{m.ToLowerInvariant()} /{e.RoutePattern.RawText!.TrimStart('/')}"))
            .Distinct().Order().ToList();

        var document = await Host.Get("/openapi/v1.json").Ok();
        var documented = document.Body!["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(o => o.Key != "parameters").Select(o => $"{o.Key} {p.Key}"))
            .Order().ToList();

        Assert.True(served.Count >= Endpoints.Count, $"only {served.Count} routes found: {string.Join(", ", served)}");
        Assert.Equal(served, documented);
    }

    [Fact]
    public async Task live_and_ready_are_200()
    {
        Assert.Equal(200, (await Host.Get("/health/live")).Status);
        Assert.Equal(200, (await Host.Get("/health/ready")).Status);
    }
}
