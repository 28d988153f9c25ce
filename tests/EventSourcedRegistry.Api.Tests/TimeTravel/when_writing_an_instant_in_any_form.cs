using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.BadInput;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Contracts;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// Issue 19, item 5: every parameter and body field that takes an instant reads it by one rule. Each accepted form of the
/// table (<see cref="InstantForms"/>) gets the answer its Z form gets, on every surface; each refused form is a 400 that
/// names the parameter, what is wrong and the accepted forms, and appends nothing. Before: an unencoded <c>+01:00</c>
/// was a 400 on <c>asOf</c> but worked on the audit log's <c>from</c>.
/// </summary>
// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_writing_an_instant_in_any_form(AppFixture app) : BadInputTest(app)
{
    public static TheoryData<string> Surfaces => new(
        "model", "versions", "version", "alias", "history", "deployments", "registry", "changes from", "changes to", "audit from",
        "audit to", "model rollback", "registry rollback");

    private static string FieldOf(string surface) => surface switch
    {
        "changes from" or "audit from" => "from",
        "changes to" or "audit to" => "to",
        _ => "asOf",
    };

    /// <summary>The request that gives <paramref name="typed"/> to the surface: in a URL as typed by hand, in a body as written.</summary>
    private static (string Call, string? Body) Request(string surface, string typed)
    {
        var q = InstantForm.InUrl(typed);
        var body = JsonSerializer.Serialize(new { asOf = typed, reason = "back to before the promotion", dryRun = true });
        return surface switch
        {
            "model" => ($"GET /api/v1/models/churn?asOf={q}", null),
            "versions" => ($"GET /api/v1/models/churn/versions?asOf={q}", null),
            "version" => ($"GET /api/v1/models/churn/versions/1?asOf={q}", null),
            "alias" => ($"GET /api/v1/models/churn/aliases/latest?asOf={q}", null),
            "history" => ($"GET /api/v1/models/churn/history?asOf={q}", null),
            "deployments" => ($"GET /api/v1/models/churn/deployments?asOf={q}", null),
            "registry" => ($"GET /api/v1/registry?asOf={q}", null),
            "changes from" => ($"GET /api/v1/registry/changes?from={q}", null),
            "changes to" => ($"GET /api/v1/registry/changes?from=0&to={q}", null),
            "audit from" => ($"GET /api/v1/audit?from={q}", null),
            "audit to" => ($"GET /api/v1/audit?to={q}", null),
            "model rollback" => ("POST /api/v1/models/churn/rollback", body),
            "registry rollback" => ("POST /api/v1/registry/rollback", body),
            _ => throw new ArgumentOutOfRangeException(nameof(surface)),
        };
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task every_accepted_form_gets_the_answer_of_the_z_form(string surface)
    {
        var (at, before) = await App.ChurnChangedAfterAWholeSecond();

        var canonical = InstantForms.All[0];
        var (call, body) = Request(surface, canonical.Write(at));
        var expected = await Call(call, body);
        Assert.True(expected.Status == 200, $"{surface}, {canonical}: {expected.Status} {expected.Body?.ToJsonString()}");
        AssertItIsTheStateAt(surface, expected.Body!, before);

        foreach (var form in InstantForms.Accepted)
        {
            var typed = form.Write(at);
            (call, body) = Request(surface, typed);
            var answer = await Call(call, body);
            Assert.True(answer.Status == 200, $"{surface}, {form} ('{typed}'): {answer.Status} {answer.Body?.ToJsonString()}");
            Assert.True(JsonNode.DeepEquals(expected.Body, answer.Body),
                $"{surface}, {form} ('{typed}'):\n{answer.Body?.ToJsonString()}\nis not the answer to the Z form:\n{expected.Body?.ToJsonString()}");
        }
    }

    /// <summary>The Z form's answer is the state at the instant (a misread offset would be hours off: 404, 409 or the present).</summary>
    private static void AssertItIsTheStateAt(string surface, JsonNode answer, long before)
    {
        static long Long(JsonNode? node) => node!.GetValue<long>();
        var sequences = answer["items"] is JsonArray items && items.FirstOrDefault()?["sequence"] is not null
            ? items.Select(i => Long(i!["sequence"])).ToList()
            : [];
        switch (surface)
        {
            case "changes from":
                Assert.Equal(before, Long(answer["fromSequence"]));
                Assert.NotEmpty(sequences);
                break;
            case "changes to":
                Assert.Equal(before, Long(answer["toSequence"]));
                Assert.Empty(answer["items"]!.AsArray());
                break;
            case "audit from":
                Assert.NotEmpty(sequences);
                Assert.All(sequences, s => Assert.True(s > before, $"audit from the instant lists sequence {s}, at or before {before}"));
                break;
            case "audit to":
                Assert.Equal(before, sequences.Max());
                break;
            case "history":
                Assert.Equal(before, sequences.Max());
                break;
            case "deployments":
                Assert.DoesNotContain(answer["items"]!.AsArray(), i => i!.ToJsonString().Contains("Staging", StringComparison.Ordinal));
                break;
            default:
                Assert.Equal(before, Long(answer["asOfSequence"]));
                break;
        }
    }

    [Fact]
    public async Task a_caller_scoped_to_another_model_or_without_the_role_learns_nothing_in_any_form()
    {
        var (at, _) = await App.ChurnChangedAfterAWholeSecond();
        await Host.RegisterModel("fraud");
        using var other = await Host.ClientWithRoles("reader:fraud");
        using var nobody = Host.ClientWithToken(Support.Access.Token("nobody", []));
        var unknown = await other.Send(HttpMethod.Get, $"/api/v1/models/no-such-model?asOf={InstantForm.InUrl(InstantForms.All[0].Write(at))}");
        unknown.AssertProblem(404);
        var withoutRole = await nobody.Send(HttpMethod.Get, "/api/v1/models/churn");
        Assert.True(withoutRole.Status is 403 or 404, $"{withoutRole.Status}");

        foreach (var form in InstantForms.Accepted)
        {
            var q = InstantForm.InUrl(form.Write(at));
            var answer = await other.Send(HttpMethod.Get, $"/api/v1/models/churn?asOf={q}");
            answer.AssertProblem(404);
            // Word for word the answer about a model that does not exist: not even that churn exists leaks.
            Assert.Equal(unknown.Body!["title"]!.GetValue<string>(), answer.Body!["title"]!.GetValue<string>());
            Assert.Equal(unknown.Body["detail"]!.GetValue<string>(), answer.Body["detail"]!.GetValue<string>().Replace("churn", "no-such-model"));
            // Without a read role: the answer it gets without a point (the model unread, as if unknown), whatever the form.
            var refused = await nobody.Send(HttpMethod.Get, $"/api/v1/models/churn?asOf={q}");
            refused.AssertProblem(withoutRole.Status);
            Assert.Equal(withoutRole.Body!["detail"]!.GetValue<string>(), refused.Body!["detail"]!.GetValue<string>());
        }
    }

    [Theory]
    [MemberData(nameof(Surfaces))]
    public async Task every_refused_form_is_a_400_that_names_the_parameter_and_the_accepted_forms(string surface)
    {
        var (at, _) = await App.ChurnChangedAfterAWholeSecond();
        var field = FieldOf(surface);

        foreach (var form in InstantForms.Refused)
        {
            var typed = form.Write(at);
            var (call, body) = Request(surface, typed);
            var problem = await Refused(400, call, body, errorField: field);
            var error = problem["errors"]![field]![0]!.GetValue<string>();
            Assert.True(error.StartsWith(field + " ", StringComparison.Ordinal), $"{surface}, {form}: {error}");
            Assert.True(error.Contains(form.Refusal!, StringComparison.Ordinal), $"{surface}, {form} ('{typed}'): {error}");
            Assert.True(error.Contains(Instants.AcceptedForms, StringComparison.Ordinal), $"{surface}, {form}: {error}");
        }
    }
}
