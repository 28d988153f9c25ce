using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Access;

public sealed class when_enumerating_routes(AppFixture app) : ApiTest(app)
{
    private static readonly HashSet<string> Known = [Policies.Read, Policies.Contribute, Policies.Approve, Policies.Audit, Policies.Admin,
        Policies.PlatformAdmin, Policies.Authenticated];

    [Fact]
    public void every_route_names_exactly_one_known_policy_or_is_explicitly_anonymous()
    {
        var endpoints = Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} routes found");

        var missing = new List<string>();
        var anonymous = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var route = $"{string.Join(",", endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])} {endpoint.RoutePattern.RawText}";
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                anonymous.Add(endpoint.RoutePattern.RawText!);
                continue;
            }
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (policies.Count != 1 || policies[0] is not { } policy || !Known.Contains(policy))
                missing.Add($"{route}: [{string.Join(", ", policies.Select(p => p ?? "(default)"))}]");
        }

        Assert.True(missing.Count == 0, "routes without exactly one known policy:\n" + string.Join("\n", missing));
        Assert.All(anonymous, path => Assert.True(path.StartsWith("/health/", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal)
                                                  || path.StartsWith(OpenApiDescription.ReferencePath, StringComparison.Ordinal)
                                                  || path.TrimStart('/') is "console/signin" or "console/assets/console.css",
            $"{path} is anonymous; only health, the OpenAPI document and its reference page, the console's sign-in form and its stylesheet may be"));
    }
}
