"""Addresses as South Asia, South-East Asia, West Africa and New Zealand write them: a house, plot
or lot number or a P.O. box, then comma-separated parts (a cross road, a block, a locality, a
town and its postcode); a town and its postcode after a street already found; a named street
after "on". Texts written for these tests, not taken from any PHI set."""

from __future__ import annotations

import pytest

from assistant.policy import phi
from tests.fakes.phi_spans import covered


def _covered(text: str, part: str) -> bool:
    return covered(text, part, library=False, kinds=("ADDRESS", "ZIP"))


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "Smt. Lata Rao, No. 8, 2nd Main, Malleswaram 5th Cross, Bengaluru 560003. Known DM.",
            "No. 8, 2nd Main, Malleswaram 5th Cross, Bengaluru 560003",
        ),
        (
            "Discharge: Nasrin Akter, House 14, Road 7, Gulshan, Dhaka 1212. Mobile on file.",
            "House 14, Road 7, Gulshan, Dhaka 1212",
        ),
        (
            "Encik Razak bin Ali, Lot 552, Kampung Pandan, Kuala Lumpur 55100. Dengue.",
            "Lot 552, Kampung Pandan, Kuala Lumpur 55100",
        ),
        (
            "Re: Kofi Mensah, P.O. Box AN 1234, Achimota, Accra. Gout.",
            "P.O. Box AN 1234, Achimota, Accra",
        ),
        (
            "Patient of H/No. 7, Kaneshie Estate, Accra. Needs refill.",
            "H/No. 7, Kaneshie Estate, Accra",
        ),
        (
            "Mr Perera, No. 12/3, Station Road, Colombo 05. Tel on file.",
            "No. 12/3, Station Road, Colombo 05",
        ),
        (
            "Referral: Anita Gupta, C-118, Lotus Apartments, Sector 4, Dwarka, New Delhi 110078. HbA2.",
            "C-118, Lotus Apartments, Sector 4, Dwarka, New Delhi 110078",
        ),
        ("of 22 Rata Street, Hamilton 3204. Gout recurrent.", "Hamilton 3204"),
        ("lives at 9 Hope Road, Kingston 10, Jamaica. Sickle cell.", "Kingston 10"),
        ("the pharmacy is the one on Mill Road. thanks", "Mill Road"),
        ("my script didn't go to the CVS on 5th Ave. Member ID on file", "5th Ave"),
    ],
)
def test_addresses_abroad(text: str, address: str) -> None:
    assert _covered(text, address), (
        [text[s.start : s.end] for s in phi.detect(text, library=False)],
        address,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Bed No. 4, Ward 7, Side Room 2",
        "Lot 12345, Exp 2027, Batch 7",
        "No. 3, Known case of asthma",
        "Seen in Bay 3, Ward 12",
        "came in on Tuesday, reviewed on the Ward Round",
        "started on Long Acting insulin, per NICE",
        "Grade 2, Stage IIIA, Gleason 7",
    ],
)
def test_no_address_in_beds_lots_and_grades(text: str) -> None:
    found = [text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]
    assert found == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Pt found collapsed at 14 Mill Road, GCS 14 on arrival, BM 5.6", "14 Mill Road"),
        ("Crew attended 22 Station Road, NEWS 7 and sats 88% on air", "22 Station Road"),
        ("Called to 3 Elm Grove, AVPU 2 on scene", "3 Elm Grove"),
        ("Attended 9 Mill Lane, RR 28 and HR 110", "9 Mill Lane"),
    ],
)
def test_a_score_after_a_street_is_no_town(text: str, address: str) -> None:
    found = [text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]
    assert found == [address]


@pytest.mark.parametrize(
    "text",
    [
        "Checked B-12, Folate and TSH today",
        "Disc prolapse at L-5, S1 nerve root compression",
        "Fracture of C-2, Odontoid Peg involved",
        "Started D-3, Calcium and Alendronate",
        "Wedge fracture T-12, L1 intact",
    ],
)
def test_vitamins_and_vertebrae_are_no_flat_code(text: str) -> None:
    found = [text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]
    assert found == []
