from moderation.comment import Comment
from moderation.policy import Verdict


def test_obvious_spam_scores_above_obvious_ham(moderator):
    """The session model learns: link spam scores above a genuine reader."""
    spam = moderator.score(Comment("Buy cheap followers now http://followers.example.com"))
    ham = moderator.score(Comment("Thanks, the flaxseed tip fixed my cast iron pan."))
    assert spam.spam > ham.spam
    assert spam.verdict in (Verdict.SPAM, Verdict.DISCARD, Verdict.HOLD)
