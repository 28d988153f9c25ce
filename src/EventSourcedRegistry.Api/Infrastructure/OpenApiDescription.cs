using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Access;
using JasperFx;
using JasperFx.CodeGeneration;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Refusals of one endpoint that its signature does not show (a conflict, a stale revision, a rule that says no), for the
/// OpenAPI document; the ones every endpoint of its kind can answer are added by <see cref="ApiResponsesPolicy"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProducesProblemsAttribute(params int[] statuses) : Attribute
{
    public IReadOnlyList<int> Statuses { get; } = statuses;
}

/// <summary>The endpoint reads <c>If-Match</c> (a stale revision is 412) although it takes no <see cref="ModelCommands"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadsIfMatchAttribute : Attribute;

/// <summary>The endpoint reads <c>Idempotency-Key</c> although it takes no <see cref="ModelCommands"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadsIdempotencyKeyAttribute : Attribute;

/// <summary>The endpoint answers <c>asOf</c>/<c>atSequence</c> with the past (as <see cref="AuthorizesModelReadAtPointAttribute"/> routes do).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadsPointInTimeAttribute : Attribute;

/// <summary>The endpoint's success answer can also stream in these media types (text, not the JSON schema), chosen by Accept.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlsoStreamsAttribute(params string[] mediaTypes) : Attribute
{
    public IReadOnlyList<string> MediaTypes { get; } = mediaTypes;
}

/// <summary>An example request body for the document (JSON text); a test checks it against the request's schema.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequestExampleAttribute(string json) : Attribute
{
    public string Json { get; } = json;
}

/// <summary>A ProblemDetails answer (application/problem+json) the document lists for an endpoint.</summary>
internal sealed class ProblemResponse(int statusCode) : IProducesResponseTypeMetadata
{
    public Type Type => statusCode == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
    public int StatusCode => statusCode;
    public IEnumerable<string> ContentTypes => ["application/problem+json"];
}

/// <summary>
/// One convention for every <c>/api/v1</c> endpoint's responses in the OpenAPI document. The endpoints return <see cref="IResult"/>,
/// which Wolverine describes as a 200 of a schema named IResult and an empty 404: both guesses are dropped here, the endpoint's own
/// <c>[ProducesResponseType]</c> attributes say what it answers on success, and the refusals are the ones its kind can give —
/// 400/401/403/429 everywhere (a bad query value, no or a wrong credential, a rate limit), 404 where the route names something,
/// 413/415 where a JSON body is read (the input door), 404/409/412/422 where <see cref="ModelCommands"/> runs the command,
/// 409/503 where a point in history is read (one in the future; one not settled yet), plus
/// <see cref="ProducesProblemsAttribute"/>'s. Wolverine reads response metadata from the endpoint (see HttpChain.ApiDescription).
/// </summary>
public sealed class ApiResponsesPolicy : IHttpPolicy
{
    public void Apply(IReadOnlyList<HttpChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.Where(c => c.RoutePattern?.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true
                                                || c.RoutePattern?.RawText == "/api/v1"))
        {
            var statuses = ProblemsOf(chain).ToHashSet();
            chain.Finally(builder =>
            {
                foreach (var guess in builder.Metadata.OfType<IProducesResponseTypeMetadata>()
                             .Where(m => m is not IApiResponseMetadataProvider and not ProblemResponse).ToList())
                    builder.Metadata.Remove(guess);
                foreach (var status in statuses.Order()) builder.Metadata.Add(new ProblemResponse(status));
            });
        }
    }

    private static IEnumerable<int> ProblemsOf(HttpChain chain)
    {
        var method = chain.Method.Method;
        yield return StatusCodes.Status400BadRequest;
        yield return StatusCodes.Status401Unauthorized;
        yield return StatusCodes.Status403Forbidden;
        yield return StatusCodes.Status429TooManyRequests;
        if (chain.RoutePattern!.Parameters.Count > 0) yield return StatusCodes.Status404NotFound;
        if (chain.HasRequestType || method.GetCustomAttributes(typeof(OpaqueBodyAttribute), false).Length > 0)
        {
            yield return StatusCodes.Status413PayloadTooLarge;
            yield return StatusCodes.Status415UnsupportedMediaType;
        }
        if (RunsModelCommands(chain))
        {
            yield return StatusCodes.Status404NotFound;
            yield return StatusCodes.Status409Conflict;
            yield return StatusCodes.Status412PreconditionFailed;
            yield return StatusCodes.Status422UnprocessableEntity;
        }
        if (method.GetCustomAttributes(typeof(ReadsIfMatchAttribute), false).Length > 0) yield return StatusCodes.Status412PreconditionFailed;
        if (method.IsDefined(typeof(AuthorizesModelReadAtPointAttribute), false) || method.IsDefined(typeof(ReadsPointInTimeAttribute), false))
        {
            // A point still in the future, and one the store has not settled yet (Retry-After).
            yield return StatusCodes.Status409Conflict;
            yield return StatusCodes.Status503ServiceUnavailable;
        }
        foreach (ProducesProblemsAttribute declared in method.GetCustomAttributes(typeof(ProducesProblemsAttribute), false))
            foreach (var status in declared.Statuses) yield return status;
    }

    internal static bool RunsModelCommands(HttpChain chain) =>
        chain.Method.Method.GetParameters().Any(p => p.ParameterType == typeof(ModelCommands));
}

/// <summary>
/// The parts of the document the endpoints' metadata cannot carry: the two ways to authenticate, each operation's required
/// role, the headers and query parameters the endpoints read from the request themselves, and a stable order with no
/// server address (the committed snapshot, docs/openapi/v1.json, is the same on every machine).
/// </summary>
public static class OpenApiDescription
{
    public const string ApiKeyScheme = "ApiKey";
    public const string BearerScheme = "Bearer";
    public const string RequiredRoleExtension = "x-required-role";

    public static IServiceCollection AddRegistryOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                Describe(schema, context.JsonTypeInfo.Type);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                Describe(operation, context);
                return Task.CompletedTask;
            });
        });

    /// <summary>The interactive API reference (Scalar), rendered in the browser from /openapi/v1.json.</summary>
    public const string ReferencePath = "/api/reference";

    /// <summary>
    /// The reference page at <see cref="ReferencePath"/>, anonymous like the document it renders. Its script is the bundle
    /// Scalar.AspNetCore ships inside its assembly, served by this app under the same path; nothing is fetched from a CDN, and
    /// Scalar's web fonts, telemetry, AI agent and MCP links are off, so the page works on a network without internet access.
    /// </summary>
    public static IEndpointConventionBuilder MapApiReference(this IEndpointRouteBuilder app) =>
        app.MapScalarApiReference(ReferencePath, options => options
                .WithTitle("EventSourcedRegistry API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .DisableMcp())
            .AllowAnonymous();

    private static void Describe(OpenApiDocument document)
    {
        document.Info.Title = "EventSourcedRegistry API";
        document.Info.Description = "A model registry for trained ML models: every change is an immutable event; any past state can be read back. " +
                                    "Every refusal is an RFC 9457 problem (application/problem+json).";
        // The document is served to whoever asks, behind whatever proxy: clients use the address they fetched it from.
        document.Servers = [];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ApiKeyAuthenticationHandler.Header,
                Description = $"An API key (esr_…) in {ApiKeyAuthenticationHandler.Header}, or as 'Authorization: {ApiKeyAuthenticationHandler.SchemeName} <key>'.",
            },
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
                Description = "A JWT from the configured issuer (Registry:Auth:Jwt); its roles claim carries the caller's grants.",
            },
        };
        // Ordered by name, so the document does not depend on the order endpoints were discovered in.
        var paths = document.Paths.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        document.Paths.Clear();
        string[] methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
        foreach (var (path, item) in paths)
        {
            if (item is OpenApiPathItem { Operations: { } operations } pathItem)
                pathItem.Operations = operations.OrderBy(o => Array.IndexOf(methods, o.Key.Method) is var i and >= 0 ? i : methods.Length)
                    .ThenBy(o => o.Key.Method, StringComparer.Ordinal).ToDictionary();
            document.Paths.Add(path, item);
        }
        if (document.Components.Schemas is { } schemas)
        {
            // The API leaves nulls out (Json.Options), so a property that may be null may be absent: it is not required.
            // (Here rather than in a schema transformer: a nullable reference becomes its oneOf [null, $ref] only in the document.)
            foreach (var schema in schemas.Values)
                if (schema.Required is { Count: > 0 } required && schema.Properties is { } properties)
                    foreach (var (name, property) in properties)
                        if (MayBeNull(property)) required.Remove(name);
            document.Components.Schemas = schemas.OrderBy(s => s.Key, StringComparer.Ordinal).ToDictionary();
        }
        document.Tags = new HashSet<OpenApiTag>(document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(o => o.Tags ?? new HashSet<OpenApiTagReference>()).Select(t => t.Name).OfType<string>().Distinct()
            .Order(StringComparer.Ordinal).Select(name => new OpenApiTag { Name = name }));
    }

    /// <summary>The bodies a read of the past (asOf/atSequence) answers, which carry the point they were read at (PastModel.Stamped).</summary>
    private static readonly Lazy<HashSet<Type>> StampedBodies = new(() => typeof(OpenApiDescription).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
        .Where(m => m.IsDefined(typeof(AuthorizesModelReadAtPointAttribute), false) || m.IsDefined(typeof(ReadsPointInTimeAttribute), false))
        .SelectMany(m => m.GetCustomAttributes(typeof(ProducesResponseTypeAttribute), false).Cast<ProducesResponseTypeAttribute>())
        .Where(a => a.StatusCode == StatusCodes.Status200OK && a.Type is not null)
        .Select(a => a.Type!).ToHashSet());

    private static void Describe(OpenApiSchema schema, Type type)
    {
        if (StampedBodies.Value.Contains(type) && schema.Properties is { } stamped && !stamped.ContainsKey("asOfSequence"))
        {
            stamped["asOfSequence"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int64",
                Description = "On a read of the past (asOf/atSequence) only: the global event sequence the answer was read at.",
            };
            stamped["asOf"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String, Format = "date-time",
                Description = "On a read of the past by asOf only: the instant asked for.",
            };
        }
    }

    private static bool MayBeNull(IOpenApiSchema property) =>
        property.Type is { } t && t.HasFlag(JsonSchemaType.Null)
        || property.OneOf?.Any(s => s.Type == JsonSchemaType.Null) == true
        || property.AnyOf?.Any(s => s.Type == JsonSchemaType.Null) == true;

    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var chain = metadata.OfType<HttpChain>().FirstOrDefault();
        var method = chain?.Method.Method;

        // Wolverine names an endpoint without a summary by its route ("GET_api_v1_models_name"); the endpoint's <summary> comment
        // (read by the XML-comment generator) or its operation id in words reads better.
        if (chain is not null)
        {
            var routeName = chain.ToString();
            if (operation.Summary is null || operation.Summary == routeName) operation.Summary = Words(chain.OperationId);
            if (operation.Description == routeName || operation.Description == chain.Description) operation.Description = null;
            if (operation.Summary != Words(chain.OperationId))
            {
                // The comment is a paragraph: its first sentence is the summary, the whole of it the description.
                var text = string.Join(" ", System.Net.WebUtility.HtmlDecode(operation.Summary).Split('\n', StringSplitOptions.TrimEntries));
                var end = text.IndexOf(". ", StringComparison.Ordinal);
                operation.Summary = end < 0 ? text.TrimEnd('.') : text[..end];
                if (end >= 0) operation.Description = operation.Description is null ? text : $"{text}\n\n{operation.Description}";
            }
        }

        if (metadata.OfType<IAllowAnonymous>().Any()) operation.Security = null;
        else
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
            ];
            if (metadata.OfType<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null) is { } policy)
            {
                var role = Policies.RoleOf.TryGetValue(policy, out var r) ? r
                    : policy == Policies.PlatformAdmin ? Roles.PlatformAdmin
                    : "any";
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions[RequiredRoleExtension] = new JsonNodeExtension(JsonValue.Create(role));
                var requirement = role == "any"
                    ? "Requires an authenticated caller (any role)."
                    : $"Requires the role `{role}` (policy `{policy}`){(chain?.RoutePattern?.Parameters.Any(p => p.Name == "name") == true ? " in the workspace or on this model" : "")}.";
                operation.Description = string.IsNullOrEmpty(operation.Description) ? requirement : $"{operation.Description}\n\n{requirement}";
            }
        }

        if (chain is null || method is null) return;
        // Grouped by feature folder (Models, ModelVersions, Audit, …) rather than by Wolverine's endpoint class name.
        if (method.DeclaringType?.Namespace?.Split('.') is [_, "Api", var feature, ..])
            operation.Tags = new HashSet<OpenApiTagReference> { new(feature, context.Document) };
        operation.Parameters ??= [];
        if (ApiResponsesPolicy.RunsModelCommands(chain) || method.GetCustomAttributes(typeof(ReadsIfMatchAttribute), false).Length > 0)
            Add(operation, "If-Match", ParameterLocation.Header, "The revision (ETag) the change was decided against, as a read returned it, e.g. \"3\"; a stale one is 412.");
        if (ApiResponsesPolicy.RunsModelCommands(chain) || method.GetCustomAttributes(typeof(ReadsIdempotencyKeyAttribute), false).Length > 0)
            Add(operation, Idempotent.Header, ParameterLocation.Header, "A client-chosen key: a retry with the same key and body answers the first answer again instead of changing anything twice.");
        if (method.GetCustomAttributes(typeof(AuthorizesModelReadAtPointAttribute), false).Length > 0
            || method.GetCustomAttributes(typeof(ReadsPointInTimeAttribute), false).Length > 0)
        {
            Add(operation, PointsInTime.AsOf, ParameterLocation.Query, "Read the state as of this instant (RFC 3339).");
            Add(operation, PointsInTime.AtSequence, ParameterLocation.Query, "Read the state as of this global event sequence.");
        }
        if (operation.Parameters.Count == 0) operation.Parameters = null;
        if (method.GetCustomAttributes(typeof(RequestExampleAttribute), false) is [RequestExampleAttribute example]
            && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
            body.Example = JsonNode.Parse(example.Json);
        foreach (AlsoStreamsAttribute streams in method.GetCustomAttributes(typeof(AlsoStreamsAttribute), false))
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse { Content: { } content })
                foreach (var mediaType in streams.MediaTypes)
                    content[mediaType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
    }

    /// <summary>"EditModelVersion" as "Edit model version".</summary>
    public static string Words(string operationId) =>
        string.Concat(operationId.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()));

    private static void Add(OpenApiOperation operation, string name, ParameterLocation location, string description)
    {
        if (operation.Parameters!.Any(p => p.Name == name && p.In == location)) return;
        operation.Parameters!.Add(new OpenApiParameter
        {
            Name = name, In = location, Required = false, Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
    }
}
