using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;

namespace EventSourcedRegistry.Tests.Workspaces;

public class when_folding_the_workspace_directory
{
    private static readonly DateTimeOffset Created = DateTimeOffset.Parse("2026-03-01T09:00:00+00:00");
    private static readonly DateTimeOffset Later = DateTimeOffset.Parse("2026-03-02T09:00:00+00:00");

    [Fact]
    public void creating_gives_the_slug_display_name_time_and_creator()
    {
        var view = WorkspaceView.Fold(null, new WorkspaceCreated("team-a", "Team A"), Created, "key:platform")!;

        Assert.Equal(("team-a", "Team A", Created, "key:platform", false, 1L),
            (view.Id, view.DisplayName, view.CreatedAt, view.CreatedBy, view.Archived, view.Revision));
    }

    [Fact]
    public void renaming_changes_only_the_display_name()
    {
        var view = WorkspaceView.Fold(WorkspaceView.Fold(null, new WorkspaceCreated("team-a", "Team A"), Created, "key:platform"),
            new WorkspaceRenamed("team-a", "Risk"), Later, "key:other")!;

        Assert.Equal(("team-a", "Risk", Created, "key:platform", 2L), (view.Id, view.DisplayName, view.CreatedAt, view.CreatedBy, view.Revision));
    }

    [Fact]
    public void archiving_keeps_the_first_archive_time()
    {
        var view = WorkspaceView.Fold(null, new WorkspaceCreated("team-a", "Team A"), Created, "key:platform");
        view = WorkspaceView.Fold(view, new WorkspaceArchived("team-a"), Later, "key:platform");
        view = WorkspaceView.Fold(view, new WorkspaceArchived("team-a"), Later.AddDays(1), "key:platform")!;

        Assert.True(view.Archived);
        Assert.Equal(Later, view.ArchivedAt);
    }

    [Fact]
    public void a_rename_or_archive_without_a_creation_makes_no_workspace()
    {
        Assert.Null(WorkspaceView.Fold(null, new WorkspaceRenamed("team-a", "Team A"), Created, null));
        Assert.Null(WorkspaceView.Fold(null, new WorkspaceArchived("team-a"), Created, null));
    }

    [Fact]
    public void a_second_creation_of_a_slug_changes_nothing()
    {
        var view = WorkspaceView.Fold(null, new WorkspaceCreated("team-a", "Team A"), Created, "key:platform");

        var again = WorkspaceView.Fold(view, new WorkspaceCreated("team-a", "Other"), Later, "key:other")!;

        Assert.Equal(("Team A", "key:platform", 1L), (again.DisplayName, again.CreatedBy, again.Revision));
    }

    [Theory]
    [InlineData("team-a", true)]
    [InlineData("ab", true)]
    [InlineData("default", true)]
    [InlineData("Team-A", false)]
    [InlineData("a", false)]
    [InlineData("1team", false)]
    [InlineData("-team", false)]
    [InlineData("team_a", false)]
    [InlineData("..", false)]
    [InlineData("a%2fb", false)]
    [InlineData("a/b", false)]
    [InlineData("~platform", false)]
    [InlineData("tëam", false)]
    [InlineData("team\u0430", false)] // Cyrillic a
    [InlineData("team-a\n", false)] // regression: the slug pattern ended in $, which matches before a final newline
    [InlineData("", false)]
    public void slugs_follow_the_workspace_id_rules(string slug, bool valid) =>
        Assert.Equal(valid, WorkspaceId.TryParse(slug, out _));

    [Fact]
    public void a_slug_has_at_most_39_characters()
    {
        Assert.True(WorkspaceId.TryParse("a" + new string('b', 38), out _));
        Assert.False(WorkspaceId.TryParse("a" + new string('b', 39), out _));
    }
}
