using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>
/// Every /api/v1 operation in the served document says what it answers: a success with a schema (or a declared non-JSON
/// media type, or no content), its refusals as problems, and who may call it. A route added without that metadata fails here.
/// </summary>
public sealed class when_describing_every_operation(AppFixture app) : ApiTest(app)
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    [Fact]
    public async Task the_operations_are_exactly_the_routes_the_app_maps()
    {
        var document = await OpenApiDocument.Served(Host);

        Assert.True(Mapped().Count > 50, $"only {Mapped().Count} /api/v1 routes found");
        Assert.Equal(Mapped().Keys.Order(StringComparer.Ordinal), Operations(document).Select(o => o.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task every_operation_declares_a_success_with_a_schema_or_a_media_type_or_no_content()
    {
        var document = await OpenApiDocument.Served(Host);

        var failures = new List<string>();
        foreach (var (name, operation) in Operations(document))
        {
            var successes = Responses(operation).Where(r => r.Status.StartsWith('2')).ToList();
            if (successes.Count == 0) failures.Add($"{name}: no 2xx response");
            foreach (var (status, response) in successes)
            {
                if (response["content"] is not JsonObject content)
                {
                    // No content: only where the answer really has no body.
                    if (status != "204" && !name.StartsWith("head ", StringComparison.Ordinal)) failures.Add($"{name}: {status} has no content");
                    continue;
                }
                foreach (var (mediaType, body) in content)
                    if (body?["schema"] is not JsonObject schema || schema.Count == 0 || schema["$ref"]?.GetValue<string>() == "#/components/schemas/IResult")
                        failures.Add($"{name}: {status} {mediaType} has no schema");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task every_refusal_an_operation_declares_is_a_problem_and_every_operation_declares_some()
    {
        var document = await OpenApiDocument.Served(Host);

        var failures = new List<string>();
        foreach (var (name, operation) in Operations(document))
        {
            var refusals = Responses(operation).Where(r => r.Status.StartsWith('4')).ToList();
            if (refusals.Count == 0) failures.Add($"{name}: no 4xx response");
            foreach (var (status, response) in refusals)
            {
                var schema = response["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>();
                if (schema is not ("#/components/schemas/ProblemDetails" or "#/components/schemas/HttpValidationProblemDetails"))
                    failures.Add($"{name}: {status} is not application/problem+json with the ProblemDetails schema");
            }
            foreach (var required in new[] { "400", "401", "403" })
                if (refusals.All(r => r.Status != required)) failures.Add($"{name}: {required} is not declared");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task every_operation_requires_a_credential_and_names_its_role_unless_it_is_anonymous()
    {
        var document = await OpenApiDocument.Served(Host);
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("apiKey", schemes[OpenApiDescription.ApiKeyScheme]!["type"]!.GetValue<string>());
        Assert.Equal("header", schemes[OpenApiDescription.ApiKeyScheme]!["in"]!.GetValue<string>());
        Assert.Equal(EventSourcedRegistry.Api.Access.ApiKeyAuthenticationHandler.Header, schemes[OpenApiDescription.ApiKeyScheme]!["name"]!.GetValue<string>());
        Assert.Equal("bearer", schemes[OpenApiDescription.BearerScheme]!["scheme"]!.GetValue<string>());

        var mapped = Mapped();
        var failures = new List<string>();
        foreach (var (name, operation) in Operations(document))
        {
            var endpoint = mapped[name];
            var security = operation["security"]?.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)).ToHashSet() ?? [];
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                if (security.Count > 0) failures.Add($"{name} is anonymous but lists {string.Join(", ", security)}");
                continue;
            }
            if (!security.SetEquals([OpenApiDescription.ApiKeyScheme, OpenApiDescription.BearerScheme]))
                failures.Add($"{name}: security is [{string.Join(", ", security)}]");
            var policy = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Single().Policy!;
            var role = operation[OpenApiDescription.RequiredRoleExtension]?.GetValue<string>();
            var expected = Policies.RoleOf.TryGetValue(policy, out var r) ? r : policy == Policies.PlatformAdmin ? Roles.PlatformAdmin : "any";
            if (role != expected) failures.Add($"{name}: {OpenApiDescription.RequiredRoleExtension} is {role ?? "missing"}, its policy {policy} needs {expected}");
            if (operation["description"]?.GetValue<string>()?.Contains(policy, StringComparison.Ordinal) != true && expected != "any")
                failures.Add($"{name}: the description does not name the policy {policy}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task commands_name_if_match_and_idempotency_key_and_reads_of_the_past_name_as_of()
    {
        var document = await OpenApiDocument.Served(Host);
        var operations = Operations(document).ToDictionary(o => o.Key, o => o.Value);

        Assert.Contains(("If-Match", "header"), Parameters(operations["patch /api/v1/models/{name}"]));
        Assert.Contains(("Idempotency-Key", "header"), Parameters(operations["post /api/v1/models/{name}/versions"]));
        Assert.Contains(("Idempotency-Key", "header"), Parameters(operations["post /api/v1/models"]));
        Assert.Contains(("412", true), Responses(operations["post /api/v1/models/{name}/versions/{version}/stage"]).Select(r => (r.Status, true)));
        foreach (var read in new[] { "get /api/v1/models/{name}", "get /api/v1/models/{name}/versions/{version}", "get /api/v1/registry" })
        {
            Assert.Contains(("asOf", "query"), Parameters(operations[read]));
            Assert.Contains(("atSequence", "query"), Parameters(operations[read]));
        }
    }

    [Fact]
    public async Task every_request_example_satisfies_the_request_schema()
    {
        var document = await OpenApiDocument.Served(Host);
        var answers = new DocumentedAnswers(document);

        var examples = Operations(document)
            .Select(o => (o.Key, Body: o.Value["requestBody"]?["content"]?["application/json"]))
            .Where(o => o.Body?["example"] is not null).ToList();

        Assert.Contains(examples, e => e.Key == "post /api/v1/models");
        Assert.All(examples, e => Assert.Empty(answers.Validate(e.Body!["schema"]!, e.Body["example"]!)));
    }

    /// <summary>"get /api/v1/models/{name}" → the endpoint the app maps for it (route constraints aside).</summary>
    private Dictionary<string, RouteEndpoint> Mapped() =>
        Host.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Key: $"{m.ToLowerInvariant()} {e.RoutePattern.RawText}", e)))
            .ToDictionary(x => x.Key, x => x.e);

    public static IEnumerable<KeyValuePair<string, JsonObject>> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(o => Methods.Contains(o.Key))
            .Select(o => KeyValuePair.Create($"{o.Key} {path.Key}", o.Value!.AsObject())));

    private static IEnumerable<(string Status, JsonObject Response)> Responses(JsonObject operation) =>
        operation["responses"]?.AsObject().Select(r => (r.Key, r.Value!.AsObject())) ?? [];

    private static IEnumerable<(string, string)> Parameters(JsonObject operation) =>
        operation["parameters"]?.AsArray().Select(p => (p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>())) ?? [];
}
