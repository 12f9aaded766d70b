"""makefml check finds what fml would silently ignore (issue 16): a
misspelled variable in config.cf, as Postfix's postconf warns of unused
parameters; a variable of the admin's own that a value uses is fine."""


def test_a_misspelled_variable_is_a_problem_with_a_suggestion(make_list):
    ml = make_list(members=["alice@example.com"])
    assert ml.makefml("check", "elena").returncode == 0
    with open(ml.path("config.cf"), "a") as f:
        f.write("SUBJECT_TAG_TPYE = [:]\n")
    p = ml.makefml("check", "elena", check=False)
    out = p.stdout.decode()
    assert p.returncode != 0
    assert "SUBJECT_TAG_TPYE is not a variable of fml" in out
    assert "(did you mean SUBJECT_TAG_TYPE?)" in out
    assert "config.cf:" in out  # where it is


def test_a_variable_a_value_uses_is_not_a_problem(make_list):
    ml = make_list(members=["alice@example.com"])
    with open(ml.path("config.cf"), "a") as f:
        f.write("SIGNATURE_NAME = the elena team\nTRAILER_MAILBODY = From $SIGNATURE_NAME\n")
    p = ml.makefml("check", "elena", check=False)
    assert p.returncode == 0, p.stdout
    with open(ml.path("config.cf"), "a") as f:
        f.write("NOBODY_USES_ME = 1\n")
    p = ml.makefml("check", "elena", check=False)
    assert p.returncode != 0 and b"NOBODY_USES_ME" in p.stdout
    assert b"did you mean" not in p.stdout  # nothing close to it
