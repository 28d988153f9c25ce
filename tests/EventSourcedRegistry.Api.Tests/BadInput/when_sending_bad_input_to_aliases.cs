using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.BadInput;

public sealed class when_sending_bad_input_to_aliases(AppFixture app) : BadInputTest(app)
{
    [Theory]
    [InlineData("latest")]
    [InlineData("LATEST")]
    [InlineData("v1")]
    [InlineData("V7")]
    [InlineData("v0")]
    [InlineData("v99999999999")]
    public async Task assigning_a_reserved_alias_is_refused_with_400(string alias)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, $"PUT /api/v1/models/churn/aliases/{alias}", """{"version":1}""", "alias");
        Assert.Contains("reserved", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v1")]
    [InlineData("V7")]
    public async Task removing_a_reserved_alias_is_refused_with_400(string alias)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(400, $"DELETE /api/v1/models/churn/aliases/{alias}", errorField: "alias");
        Assert.Contains("reserved", problem["detail"]!.GetValue<string>());
    }

    /// <summary>
    /// Aliases start with an ASCII letter and hold ASCII letters, digits, '_' and '-', at most 64 of them.
    /// (A NUL in a path, %00, never reaches an endpoint: Kestrel refuses it, and the in-memory test client throws.)
    /// </summary>
    public static TheoryData<string> BadAliases => new()
    {
        "1st",
        "_champion",
        "-champion",
        "champ.ion",
        "champ%20ion",
        "champ%09ion",
        "champ%0Aion",
        "champ%2Fion",
        "champ:ion",
        "caf%C3%A9",
        "a" + new string('b', 64),
    };

    [Theory]
    [MemberData(nameof(BadAliases))]
    public async Task assigning_an_alias_with_invalid_characters_is_refused_with_400(string alias)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"PUT /api/v1/models/churn/aliases/{alias}", """{"version":1}""", "alias");
    }

    [Theory]
    [InlineData("1st")]
    [InlineData("champ.ion")]
    [InlineData("champ%20ion")]
    public async Task removing_an_alias_with_invalid_characters_is_refused_with_400(string alias)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"DELETE /api/v1/models/churn/aliases/{alias}", errorField: "alias");
    }

    [Theory]
    [InlineData("1st")]
    [InlineData("champ.ion")]
    [InlineData("champ%20ion")]
    public async Task resolving_an_alias_with_invalid_characters_is_refused_with_400(string alias)
    {
        await GivenChurn(versions: 1);
        await Refused(400, $"GET /api/v1/models/churn/aliases/{alias}", errorField: "alias");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(99999)]
    public async Task assigning_an_alias_to_a_missing_version_is_refused_with_404(int version)
    {
        await GivenChurn(versions: 1);
        var problem = await Refused(404, "PUT /api/v1/models/churn/aliases/champion", $$"""{"version":{{version}}}""");
        Assert.Contains($"no version {version}", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task assigning_an_alias_of_a_model_without_versions_is_refused_with_404()
    {
        await GivenChurn();
        await Refused(404, "PUT /api/v1/models/churn/aliases/champion", """{"version":1}""");
    }

    [Fact]
    public async Task a_reason_over_2000_characters_is_refused_with_400()
    {
        await GivenChurn(versions: 1);
        await Refused(400, "PUT /api/v1/models/churn/aliases/champion", $$"""{"version":1,"reason":"{{new string('r', 2001)}}"}""", "reason");
        await Refused(400, $"DELETE /api/v1/models/churn/aliases/champion?reason={new string('r', 2001)}", errorField: "reason");
    }
}
