"""The words of the child's-voice parts of the pages (docs/domain.md rules 30-36), in English and in
Welsh: the findings' codes as people read them, and the headings around them. `i18n.STRINGS` takes
them in, so a key missing in either language is an error at import."""

from typing import get_args

from shared.contracts.voice import (
    ActionCode,
    Harm,
    NrmDecision,
    PlacementView,
    Reason,
    ReferralKind,
    StayedWith,
    WouldHelp,
)

# A code's label is its list's prefix and the code: `why_boredom`, `help_nothing`, ...
PREFIXES = {
    "reasons": "why_",
    "stayed_with": "stayed_",
    "harm": "harm_",
    "would_help": "help_",
    "placement_view": "view_",
}
CODES = {
    "reasons": get_args(Reason),
    "stayed_with": get_args(StayedWith),
    "harm": get_args(Harm),
    "would_help": get_args(WouldHelp),
    "placement_view": get_args(PlacementView),
}
WOULD_NOT_SAY = ("Would not say", "Ddim am ddweud")

VOICE_STRINGS: dict[str, tuple[str, str]] = {
    "heard": ("What the child said", "Beth ddywedodd y plentyn"),
    "heard_none": (
        "No interview has recorded what the child said yet.",
        "Nid oes cyfweliad wedi cofnodi beth ddywedodd y plentyn eto.",
    ),
    "heard_interview": ("Interview on {date} with {provider}", "Cyfweliad ar {date} gyda {provider}"),
    "heard_reasons": ("Why they went", "Pam aethon nhw"),
    "heard_stayed_with": ("Where and with whom they stayed", "Ble a gyda phwy yr arhoson nhw"),
    "heard_harm": ("Harm", "Niwed"),
    "heard_would_help": ("What would help", "Beth fyddai'n helpu"),
    "heard_placement_view": ("Their placement", "Eu lleoliad"),
    "heard_child_words": ("In their own words", "Yn eu geiriau eu hunain"),
    "heard_private": (
        "Only your council sees what the child said.",
        "Dim ond eich cyngor chi sy'n gweld beth ddywedodd y plentyn.",
    ),
    "findings_form": (
        "What the child said (an interview that was held)",
        "Beth ddywedodd y plentyn (cyfweliad a gynhaliwyd)",
    ),
    "findings_form_hint": (
        "Tick what the child told you. Leave out names: say what kind of person or place.",
        "Ticiwch beth ddywedodd y plentyn wrthych. Peidiwch â rhoi enwau: dywedwch pa fath o berson neu le.",
    ),
    "child_words_hint": (
        "As the child said it, in any language, up to 2,000 characters. Only the child's council will read it.",
        "Fel y dywedodd y plentyn, mewn unrhyw iaith, hyd at 2,000 nod. Dim ond cyngor y plentyn fydd yn ei ddarllen.",
    ),
    "heard_waiting": ("Heard, waiting for your answer", "Wedi'u clywed, yn aros am eich ateb"),
    "heard_when": ("Interview", "Cyfweliad"),
    "answer_by": ("Answer by", "Atebwch erbyn"),
    "answer_late": ("answer late", "ateb yn hwyr"),
    "answer": ("Your answer", "Eich ateb"),
    "answer_correct": ("Correct your answer", "Cywiro eich ateb"),
    "answer_what_done": ("What you did", "Beth wnaethoch chi"),
    "answer_referral_kind": ("Referral to", "Atgyfeiriad at"),
    "answer_no_action_reason": ("If no action: why", "Os dim camau: pam"),
    "answer_child_told": (
        "The child was told what happens next",
        "Dywedwyd wrth y plentyn beth sy'n digwydd nesaf",
    ),
    "answer_send": ("Record the answer", "Cofnodi'r ateb"),
    "answer_given": ("Answered {date}{late}", "Atebwyd {date}{late}"),
    "answer_was_late": (" (late)", " (yn hwyr)"),
    "answer_correction": ("Correction {date}", "Cywiriad {date}"),
    "answer_told_yes": (
        "The child was told what happens next.",
        "Dywedwyd wrth y plentyn beth sy'n digwydd nesaf.",
    ),
    "answer_told_no": ("The child has not been told yet.", "Nid yw'r plentyn wedi cael gwybod eto."),
    "act_care_plan_reviewed": ("Care plan reviewed", "Adolygwyd y cynllun gofal"),
    "act_placement_meeting": ("Placement meeting held", "Cynhaliwyd cyfarfod lleoliad"),
    "act_family_contact_changed": ("Family contact changed", "Newidiwyd y cysylltiad â'r teulu"),
    "act_referral_made": ("Referral made", "Gwnaed atgyfeiriad"),
    "act_support_offered": ("Support offered", "Cynigiwyd cymorth"),
    "act_no_action": ("No action", "Dim camau"),
    "referral_camhs": (
        "Child and adolescent mental health services",
        "Gwasanaethau iechyd meddwl plant a'r glasoed",
    ),
    "referral_substance_misuse": ("Substance misuse service", "Gwasanaeth camddefnyddio sylweddau"),
    "referral_nrm": ("National Referral Mechanism", "Y Mecanwaith Atgyfeirio Cenedlaethol"),
    "referral_education": ("Education", "Addysg"),
    "referral_other": ("Another service", "Gwasanaeth arall"),
    "no_action_already_in_hand": ("Already in hand", "Eisoes ar y gweill"),
    "no_action_child_asked_for_none": ("The child asked for nothing", "Ni ofynnodd y plentyn am ddim"),
    "no_action_other": ("Another reason", "Rheswm arall"),
    "findings.responded": ("answer to what the child said", "ateb i'r hyn a ddywedodd y plentyn"),
    "findings.response_due": (
        "Answer due soon to what a child said",
        "Ateb yn ddyledus cyn bo hir i'r hyn a ddywedodd plentyn",
    ),
    "findings.response_overdue": (
        "What a child said is not answered in time",
        "Nid atebwyd yr hyn a ddywedodd plentyn mewn pryd",
    ),
    "alert.said_again": ("The child has said it again", "Mae'r plentyn wedi'i ddweud eto"),
    "placement.review_requested": (
        "The child asks for a placement review",
        "Mae'r plentyn yn gofyn am adolygiad o'r lleoliad",
    ),
    "alert.victim_arrested": (
        "A possible victim of exploitation was arrested",
        "Cafodd dioddefwr camfanteisio posibl ei arestio",
    ),
    "nrm.decided": ("NRM decision", "Penderfyniad NRM"),
    "nrm.decision_due": (
        "No NRM decision recorded for an episode with signs of exploitation",
        "Dim penderfyniad NRM wedi'i gofnodi ar gyfer cyfnod ag arwyddion o gamfanteisio",
    ),
    "why_placement_relationships": ("Relationships where they live", "Perthnasoedd lle maen nhw'n byw"),
    "why_wants_family_contact": ("Wants to see their family", "Eisiau gweld eu teulu"),
    "why_wants_friends": ("Wants to see their friends", "Eisiau gweld eu ffrindiau"),
    "why_placed_far_from_home": ("Placed far from home", "Wedi'u lleoli ymhell o gartref"),
    "why_school_or_bullying": ("School or bullying", "Ysgol neu fwlio"),
    "why_exploitation_pull": (
        "Drawn away by someone exploiting them",
        "Wedi'u denu gan rywun sy'n eu camfanteisio",
    ),
    "why_substance_use": ("Drugs or alcohol", "Cyffuriau neu alcohol"),
    "why_mental_health": ("Mental health", "Iechyd meddwl"),
    "why_rules_or_boundaries": ("Rules or boundaries", "Rheolau neu ffiniau"),
    "why_boredom": ("Boredom", "Diflastod"),
    "why_other": ("Something else", "Rhywbeth arall"),
    "stayed_friends": ("Friends", "Ffrindiau"),
    "stayed_family": ("Family", "Teulu"),
    "stayed_adult_unknown_to_carers": (
        "An adult the carers do not know",
        "Oedolyn nad yw'r gofalwyr yn ei adnabod",
    ),
    "stayed_street_or_public_place": ("The street or a public place", "Y stryd neu le cyhoeddus"),
    "stayed_another_area": ("Another area", "Ardal arall"),
    "stayed_would_not_say": WOULD_NOT_SAY,
    "harm_none_disclosed": ("None disclosed", "Dim wedi'i ddatgelu"),
    "harm_disclosed": ("Harm disclosed", "Niwed wedi'i ddatgelu"),
    "harm_would_not_say": WOULD_NOT_SAY,
    "help_change_of_placement": ("A change of placement", "Newid lleoliad"),
    "help_more_family_contact": ("More contact with family", "Mwy o gysylltiad â'r teulu"),
    "help_contact_with_friends": ("Contact with friends", "Cysylltiad â ffrindiau"),
    "help_school_support": ("Support at school", "Cymorth yn yr ysgol"),
    "help_someone_to_talk_to": ("Someone to talk to", "Rhywun i siarad ag ef"),
    "help_substance_support": ("Support with drugs or alcohol", "Cymorth gyda chyffuriau neu alcohol"),
    "help_mental_health_support": ("Mental health support", "Cymorth iechyd meddwl"),
    "help_nothing": ("Nothing", "Dim byd"),
    "help_other": ("Something else", "Rhywbeth arall"),
    "view_stay": ("Wants to stay where they live", "Eisiau aros lle maen nhw'n byw"),
    "view_move": ("Wants to move", "Eisiau symud"),
    "view_return_home_area": ("Wants to go back to their home area", "Eisiau mynd yn ôl i'w hardal gartref"),
    "view_unsure": ("Not sure", "Ddim yn siŵr"),
    "view_would_not_say": WOULD_NOT_SAY,
    "nrm_referred": ("Referred to the NRM", "Atgyfeiriwyd i'r NRM"),
    "nrm_already_referred": ("Already referred", "Wedi'i atgyfeirio eisoes"),
    "nrm_not_referred": ("Not referred", "Heb ei atgyfeirio"),
    "nrm_heading": (
        "Signs of exploitation: the NRM decision",
        "Arwyddion o gamfanteisio: y penderfyniad NRM",
    ),
    "nrm_hint": (
        "Record, for each episode with signs of exploitation, whether the child was referred to the National "
        "Referral Mechanism.",
        "Cofnodwch, ar gyfer pob cyfnod ag arwyddion o gamfanteisio, a gafodd y plentyn ei atgyfeirio i'r "
        "Mecanwaith Atgyfeirio Cenedlaethol.",
    ),
    "nrm_none": (
        "No episode has shown signs of exploitation.",
        "Nid oes cyfnod wedi dangos arwyddion o gamfanteisio.",
    ),
    "nrm_episode": ("Episode that began {date}: {signs}", "Cyfnod a ddechreuodd {date}: {signs}"),
    "nrm_decision": ("Decision", "Penderfyniad"),
    "nrm_reason": ("If not referred: why", "Os na chafodd ei atgyfeirio: pam"),
    "nrm_send": ("Record the NRM decision", "Cofnodi'r penderfyniad NRM"),
    "nrm_recorded": ("{decision}, recorded {date}", "{decision}, cofnodwyd {date}"),
    "nrm_why_already_supported": (
        "Already supported by another service",
        "Eisoes yn cael cymorth gan wasanaeth arall",
    ),
    "nrm_why_assessed_not_exploited": (
        "Assessed: not exploitation",
        "Wedi'i asesu: nid camfanteisio",
    ),
    "nrm_why_other": ("Another reason", "Rheswm arall"),
    # The figures page's part on the child's voice (docs/domain.md rule 35).
    "voice_figures": ("The child's voice", "Llais y plentyn"),
    "voice_said": (
        "Of {heard} {interviews} in which a child said what happened, the council answered {in_time} in time "
        "of the {due} due so far, and told the child what happens next after {told}.",
        "O'r {heard} cyfweliad dychwelyd lle dywedodd plentyn beth ddigwyddodd, atebodd y cyngor {in_time} "
        "mewn pryd o'r {due} oedd yn ddyledus hyd yma, a dweud wrth y plentyn beth sy'n digwydd nesaf ar ôl "
        "{told}.",
    ),
    "voice_interview": ("return interview", "cyfweliad dychwelyd"),
    "voice_interviews": ("return interviews", "cyfweliad dychwelyd"),
    "voice_none": (
        "No return interview recorded what the child said in this period.",
        "Ni chofnododd unrhyw gyfweliad dychwelyd beth ddywedodd y plentyn yn y cyfnod hwn.",
    ),
    "fig_heard": (
        "Interviews in which the child said what happened",
        "Cyfweliadau lle dywedodd y plentyn beth ddigwyddodd",
    ),
    "fig_answers_decided": (
        "answer due (answered, or its time ran out)",
        "ateb yn ddyledus (wedi'i ateb, neu aeth yr amser heibio)",
    ),
    "fig_answered_in_time": ("answered in time", "atebwyd mewn pryd"),
    "fig_pct_answered_in_time": ("% answered in time", "% a atebwyd mewn pryd"),
    "fig_answered_late": ("answered late", "atebwyd yn hwyr"),
    "fig_answer_overdue": ("time ran out, not answered", "aeth yr amser heibio, heb ei ateb"),
    "fig_answer_awaited": ("not answered, still in time", "heb ei ateb, yn dal mewn pryd"),
    "fig_child_told": (
        "the child was told what happens next",
        "dywedwyd wrth y plentyn beth sy'n digwydd nesaf",
    ),
    "fig_pct_child_told": ("% told what happens next", "% y dywedwyd wrthynt beth sy'n digwydd nesaf"),
    "fig_heard_in_area": (
        "placed in your area, and why they went:",
        "wedi'u lleoli yn eich ardal, a pham aethon nhw:",
    ),
    "fig_heard_out_of_area": (
        "placed out of your area, and why they went:",
        "wedi'u lleoli y tu allan i'ch ardal, a pham aethon nhw:",
    ),
    "fig_said_again": ("Reasons said again", "Rhesymau a ddywedwyd eto"),
    "fig_placement_reviews": (
        "Placement reviews asked (placed out of area, wants to move or go home); every view:",
        "Adolygiadau lleoliad a ofynnwyd (y tu allan i'r ardal, eisiau symud neu fynd adref); pob barn:",
    ),
    "fig_exploitation_episodes": (
        "Episodes with signs of exploitation",
        "Cyfnodau ag arwyddion o gamfanteisio",
    ),
    "fig_exploitation_arrested": ("ended in the child's arrest", "daeth i ben gydag arestio'r plentyn"),
    "fig_nrm_decided": ("NRM decision recorded", "penderfyniad NRM wedi'i gofnodi"),
    "fig_nrm_undecided": ("no NRM decision recorded", "dim penderfyniad NRM wedi'i gofnodi"),
}


ACTIONS = get_args(ActionCode)
REFERRAL_KINDS = get_args(ReferralKind)
NO_ACTION_REASONS = ("already_in_hand", "child_asked_for_none", "other")
NRM_DECISIONS = get_args(NrmDecision)
NRM_REASONS = ("already_supported", "assessed_not_exploited", "other")


def code_keys(field: str) -> list[tuple[str, str]]:
    """One findings field's codes and their string keys, in the contract's order."""
    return [(code, PREFIXES[field] + code) for code in CODES[field]]
