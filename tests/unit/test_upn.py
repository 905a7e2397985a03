from flagstream.domain.upn import CHECK_LETTERS, check_letter, make_upn, upn_problem


def test_check_letter_matches_the_dfe_worked_weights() -> None:
    # Body 801200001001, weights 2..13: 8*2 + 1*4 + 2*5 + 1*10 + 1*13 = 53; 53 % 23 = 7.
    assert check_letter("801200001001") == CHECK_LETTERS[7] == "H"


def test_made_upns_are_valid_and_a_changed_digit_is_caught() -> None:
    upn = make_upn(835, 2001, 2019, 42)
    assert upn_problem(upn) is None
    changed = upn[:-1] + str((int(upn[-1]) + 1) % 10)
    assert upn_problem(changed) == "invalid_upn_check_letter"


def test_format_problems() -> None:
    assert upn_problem("H80120000100") == "invalid_upn_format"  # 12 characters
    assert upn_problem("I801200001001") == "invalid_upn_format"  # I is never a check letter
    assert upn_problem("h801200001001") == "invalid_upn_format"


def test_temporary_upn_with_final_letter() -> None:
    body = "80120000100A"
    assert upn_problem(check_letter(body) + body) is None
