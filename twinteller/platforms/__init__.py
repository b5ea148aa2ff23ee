"""Moving in from another chatbot platform: Rasa, Dialogflow ES and CX, Amazon Lex V2, QnA
Maker and AIML exports turned into FAQ and lexicon entries, with a report of what could not
come across (twinteller/platforms/mapping.py)."""
