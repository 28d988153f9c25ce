using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>
/// The document tells the truth: real requests to a representative set of operations (models, versions, stage transitions,
/// approvals, aliases, history, the registry as of a point, audit), a success and refusals each, answer only statuses the
/// document declares for that operation, with bodies that validate against the declared schemas.
/// </summary>
public sealed class when_answers_are_checked_against_the_openapi_document(AppFixture app) : ApiTest(app)
{
    private const string Model = "/api/v1/models/{name}";
    private const string Version = "/api/v1/models/{name}/versions/{version}";
    private const string Alias = "/api/v1/models/{name}/aliases/{alias}";

    [Fact]
    public async Task every_answer_is_declared_for_its_operation_and_has_the_declared_shape()
    {
        var answers = new DocumentedAnswers(await OpenApiDocument.Served(Host));
        var failures = new List<string>();

        async Task<RegistryCalls.Response> Check(int expected, string method, string template, Task<RegistryCalls.Response> call)
        {
            var response = await call;
            if (response.Status != expected) failures.Add($"{method.ToUpperInvariant()} {template}: expected {expected}, got {response.Status} {response.Body}");
            failures.AddRange(answers.Mismatches(method, template, response));
            return response;
        }

        var reader = await Host.ClientWithRoles("reader");

        // Models
        await Check(201, "post", "/api/v1/models", Host.Post("/api/v1/models", new { name = "churn", description = "Churn model", tags = new { team = "growth" } }));
        await Check(409, "post", "/api/v1/models", Host.Post("/api/v1/models", new { name = "churn" }));
        await Check(400, "post", "/api/v1/models", Host.Post("/api/v1/models", new { name = "" }));
        await Check(415, "post", "/api/v1/models", SendText(HttpMethod.Post, "/api/v1/models", "name=churn", "text/plain"));
        await Check(403, "post", "/api/v1/models", reader.Send(HttpMethod.Post, "/api/v1/models", new { name = "other" }));
        await Check(200, "get", "/api/v1/models", Host.Get("/api/v1/models"));
        await Check(200, "get", Model, Host.Get("/api/v1/models/churn"));
        await Check(404, "get", Model, Host.Get("/api/v1/models/nothing-here"));
        await Check(401, "get", Model, Host.AnonymousClient().Send(HttpMethod.Get, "/api/v1/models/churn"));
        await Check(412, "patch", Model, Host.Patch("/api/v1/models/churn", new { description = "stale" }, Behaviour.IfMatch("\"99\"")));
        await Check(200, "patch", Model, Host.Patch("/api/v1/models/churn", new { description = "Churn, retrained weekly" }));
        await Check(200, "get", "/api/v1/models/{name}/history", Host.Get("/api/v1/models/churn/history"));

        // Versions and stage transitions
        await Check(201, "post", "/api/v1/models/{name}/versions", Host.RegisterVersionWith("churn"));
        await Check(400, "post", "/api/v1/models/{name}/versions", Host.Post("/api/v1/models/churn/versions", new { artifact = new { uri = "s3://m/a.onnx", sha256 = "not-hex" } }));
        await Check(200, "get", "/api/v1/models/{name}/versions", Host.Get("/api/v1/models/churn/versions"));
        await Check(200, "get", Version, Host.Get("/api/v1/models/churn/versions/1"));
        await Check(404, "get", Version, Host.Get("/api/v1/models/churn/versions/9"));
        await Check(200, "post", Version + "/stage", Host.Promote("churn", 1, "Staging", reason: "offline metrics pass"));
        await Check(400, "post", Version + "/stage", Host.Promote("churn", 1, "Nowhere"));

        // Aliases
        await Check(200, "put", Alias, Host.Put("/api/v1/models/churn/aliases/champion", new { version = 1 }));
        await Check(200, "get", Alias, Host.Get("/api/v1/models/churn/aliases/champion"));
        await Check(404, "get", Alias, Host.Get("/api/v1/models/churn/aliases/nobody"));
        await Check(204, "delete", Alias, Host.Delete("/api/v1/models/churn/aliases/champion"));

        // Approvals (four eyes is off on the shared host: the reads and the refusals)
        await Check(200, "get", "/api/v1/models/{name}/requests", Host.Get("/api/v1/models/churn/requests"));
        await Check(404, "get", "/api/v1/models/{name}/requests/{id}", Host.Get($"/api/v1/models/churn/requests/{Guid.NewGuid()}"));
        await Check(400, "post", "/api/v1/models/{name}/requests/{id}/approve", Host.Post("/api/v1/models/churn/requests/not-a-guid/approve", new { }));

        // The registry now and as of a point, and a model as of that point
        var now = await Check(200, "get", "/api/v1/registry", Host.Get("/api/v1/registry"));
        var sequence = now.Body!["asOfSequence"]!.GetValue<long>();
        await Check(200, "get", "/api/v1/registry", Host.Get($"/api/v1/registry?atSequence={sequence - 1}"));
        await Check(400, "get", "/api/v1/registry", Host.Get("/api/v1/registry?asOf=yesterday"));
        await Check(200, "get", Model, Host.Get($"/api/v1/models/churn?atSequence={sequence}"));
        await Check(200, "get", Version, Host.Get($"/api/v1/models/churn/versions/1?atSequence={sequence}"));

        // Audit
        await Check(200, "get", "/api/v1/audit", Host.Get("/api/v1/audit"));
        await Check(400, "get", "/api/v1/audit", Host.Get("/api/v1/audit?format=xml"));
        await Check(403, "get", "/api/v1/audit", reader.Send(HttpMethod.Get, "/api/v1/audit"));

        Assert.True(failures.Count == 0, "answers the document does not declare:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task the_check_refuses_a_status_or_a_body_the_document_does_not_declare()
    {
        var answers = new DocumentedAnswers(await OpenApiDocument.Served(Host));
        var model = JsonNode.Parse("""{"$ref": "#/components/schemas/ModelInfo"}""")!;
        var created = await Host.Post("/api/v1/models", new { name = "churn" });
        var real = created.Body!;
        Assert.Empty(answers.Validate(model, real.DeepClone()));

        // A field of the wrong type, a field the schema does not name, and a required field left out each fail the check.
        var wrongType = real.DeepClone(); wrongType["name"] = 5;
        Assert.NotEmpty(answers.Validate(model, wrongType));
        var undocumented = real.DeepClone(); undocumented["undocumented"] = true;
        Assert.NotEmpty(answers.Validate(model, undocumented));
        var missing = real.DeepClone().AsObject(); missing.Remove("revision");
        Assert.NotEmpty(answers.Validate(model, missing));
        // A status the operation does not declare fails too (GET of a model never answers 201).
        Assert.NotEmpty(answers.Mismatches("get", Model, created));
    }

    private async Task<RegistryCalls.Response> SendText(HttpMethod method, string url, string body, string contentType)
    {
        using var request = new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        using var client = Host.Client();
        return await RegistryCalls.Read(await client.SendAsync(request));
    }
}
