using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>An archived model accepts no command but restore, and refuses each with 409.</summary>
public class when_a_model_is_archived
{
    private static readonly Dictionary<string, Func<ModelView, Decision>> Commands = new()
    {
        ["rename"] = m => ModelDecisions.Rename(m, "another-name"),
        ["edit metadata"] = m => ModelDecisions.EditMetadata(m, "New description.", null, null),
        ["archive"] = ModelDecisions.Archive,
        ["register version"] = m => ModelDecisions.RegisterVersion(m, LifecycleGraph.Default, Given.Artifact(9), null, null, null, null, null, null),
        ["edit version"] = m => ModelDecisions.EditVersion(m, 1, "New description.", null, null, null, new Dictionary<string, string>()),
        ["transition stage"] = m => ModelDecisions.TransitionStage(m, LifecycleGraph.Default, 1, LifecycleGraph.Production, null, true),
        ["assign alias"] = m => ModelDecisions.AssignAlias(m, "challenger", 1),
        ["remove alias"] = m => ModelDecisions.RemoveAlias(m, "champion"),
    };

    public static TheoryData<string> AllButRestore => new(Commands.Keys);

    private static ModelView ArchivedModel() => Given.Model(versions: 2).WithAlias("champion", 1).Archived();

    [Theory]
    [MemberData(nameof(AllButRestore))]
    public void every_command_but_restore_is_a_conflict_that_names_the_model(string command)
    {
        var decision = Commands[command](ArchivedModel());

        DecisionAssert.Rejected(decision, RejectionKind.Conflict, $"'{Given.ModelName}'", "archived");
    }

    [Theory]
    [MemberData(nameof(AllButRestore))]
    public void the_same_command_is_accepted_once_the_model_is_restored(string command)
    {
        var decision = Commands[command](ArchivedModel().Then(ModelDecisions.Restore));

        Assert.False(decision.IsRejected, decision.Rejection?.Detail);
        Assert.NotEmpty(decision.Events);
    }

    [Fact]
    public void restore_is_accepted()
    {
        DecisionAssert.Accepted(ModelDecisions.Restore(ArchivedModel()), new ModelRestored(Given.ModelId));
    }
}
